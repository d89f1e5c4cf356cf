//===- Safetensors.cpp - safetensors files for the nlc runtime ------------===//
//
// The reader validates the whole header (every entry, then the layout of the
// byte ranges) before it allocates or reads any tensor data, so a hostile
// file costs at most its header in memory.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Safetensors.h"

#include "nlrt/Json.h"

#include "FileIO.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>

using namespace nlrt;
using namespace nlrt::detail;

namespace {

constexpr uint64_t kSizeBytes = 8;
constexpr char kMetadataKey[] = "__metadata__";
/// The metadata key prefix of a tensor's checksum.
constexpr char kChecksumPrefix[] = "nlc.crc32.";

/// One validated tensor entry of the header.
struct Entry {
  const std::string *name;
  StoredType type;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

std::string range(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

/// Reads a JSON array of at most `maxSize` non-negative integers.
bool readNaturals(const JsonValue *value, size_t maxSize,
                  std::vector<int64_t> &out) {
  if (!value || !value->isArray() || value->size() > maxSize)
    return false;
  for (const JsonValue &element : value->elements()) {
    int64_t n;
    if (!element.asInt(n) || n < 0)
      return false;
    out.push_back(n);
  }
  return true;
}

/// Validates the entry of tensor `name` (except where its range lies).
bool parseEntry(const std::string &name, const JsonValue &value, Entry &entry,
                std::string &problem) {
  std::string what = "tensor " + quoteJson(name) + ": ";
  entry.name = &name;
  if (!value.isObject()) {
    problem = what + "entry is not a JSON object";
    return false;
  }
  const JsonValue *dtype = value.get("dtype");
  std::string type;
  std::vector<int64_t> offsets;
  if (!dtype || !dtype->asString(type))
    problem = what + (dtype ? "'dtype' is not a string" : "missing 'dtype'");
  else if (!parseStoredType(type, entry.type))
    problem = what + "unsupported dtype " + quoteJson(type) +
              " (supported: F32, F64, F16, BF16, I32, I64)";
  else if (!value.get("shape"))
    problem = what + "missing 'shape'";
  else if (!readNaturals(value.get("shape"), kMaxRank, entry.shape))
    problem = what + "'shape' is not an array of at most " +
              std::to_string(kMaxRank) + " non-negative integers";
  else if (!value.get("data_offsets"))
    problem = what + "missing 'data_offsets'";
  else if (!readNaturals(value.get("data_offsets"), 2, offsets) ||
           offsets.size() != 2 || offsets[0] > offsets[1])
    problem = what + "'data_offsets' is not a pair [begin, end] of "
                     "integers with 0 <= begin <= end";
  if (!problem.empty())
    return false;
  entry.begin = static_cast<uint64_t>(offsets[0]);
  entry.end = static_cast<uint64_t>(offsets[1]);
  std::optional<int64_t> count =
      checkedNumel(entry.shape, itemSize(entry.type));
  if (!count) {
    problem = what + "shape " + shapeToString(entry.shape) + " of " + type +
              " overflows int64 bytes";
    return false;
  }
  uint64_t bytes = static_cast<uint64_t>(*count * itemSize(entry.type));
  if (entry.end - entry.begin != bytes) {
    problem = what + "data_offsets " + range(entry.begin, entry.end) +
              " span " + std::to_string(entry.end - entry.begin) +
              " bytes but shape " + shapeToString(entry.shape) + " of " + type +
              " needs " + std::to_string(bytes);
    return false;
  }
  return true;
}

/// Checks that the sorted `entries` tile the `bufferBytes`-byte buffer.
bool checkLayout(std::vector<Entry> &entries, uint64_t bufferBytes,
                 std::string &problem) {
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry &entry : entries) {
    if (entry.end > bufferBytes) {
      problem = "tensor " + quoteJson(*entry.name) + ": data_offsets " +
                range(entry.begin, entry.end) + " lie outside the " +
                std::to_string(bufferBytes) + "-byte data buffer";
      return false;
    }
    if (entry.begin < covered) {
      problem = "tensors " + quoteJson(*previous->name) + " " +
                range(previous->begin, previous->end) + " and " +
                quoteJson(*entry.name) + " " + range(entry.begin, entry.end) +
                " overlap";
      return false;
    }
    if (entry.begin > covered) {
      problem = "bytes " + range(covered, entry.begin) +
                " of the data buffer belong to no tensor";
      return false;
    }
    covered = entry.end;
    previous = &entry;
  }
  if (covered != bufferBytes) {
    problem = "trailing bytes: the tensors cover " + std::to_string(covered) +
              " bytes but the data buffer holds " + std::to_string(bufferBytes);
    return false;
  }
  return true;
}

/// Reads the string-to-string "__metadata__" object.
bool parseMetadata(const JsonValue &value,
                   std::map<std::string, std::string> &out,
                   std::string &problem) {
  if (!value.isObject()) {
    problem = "__metadata__ is not a JSON object";
    return false;
  }
  for (const JsonValue::Member &member : value.members())
    if (!member.second.asString(out[member.first])) {
      problem = "__metadata__ value of " + quoteJson(member.first) +
                " is not a string";
      return false;
    }
  return true;
}

} // namespace

bool nlrt::readSafetensors(const std::string &path, TensorFile &out,
                           std::string *error) {
  InputFile file;
  if (!file.open(path, error))
    return false;
  uint64_t size = file.size();
  if (size == 0)
    return failAt(error, path, "empty file (expected a safetensors file)");
  if (size < kSizeBytes)
    return failAt(error, path,
                  "truncated: the " + std::to_string(size) +
                      "-byte file is too short for the 8-byte header size");
  unsigned char sizeBytes[kSizeBytes];
  if (!file.readAt(0, sizeBytes, kSizeBytes, error))
    return false;
  uint64_t headerBytes = 0;
  for (int i = kSizeBytes - 1; i >= 0; --i)
    headerBytes = headerBytes << 8 | sizeBytes[i];
  if (headerBytes > kMaxSafetensorsHeaderBytes)
    return failAt(error, path,
                  "header size " + std::to_string(headerBytes) +
                      " exceeds the limit of " +
                      std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (headerBytes > size - kSizeBytes)
    return failAt(error, path,
                  "header size " + std::to_string(headerBytes) +
                      " exceeds the " + std::to_string(size - kSizeBytes) +
                      " bytes that follow it");
  std::string text(headerBytes, '\0');
  if (!file.readAt(kSizeBytes, text.data(), text.size(), error))
    return false;

  std::string problem;
  JsonLimits limits;
  limits.maxBytes = kMaxSafetensorsHeaderBytes;
  std::optional<JsonValue> header = parseJson(text, &problem, limits);
  if (!header)
    return failAt(error, path, "invalid header: " + problem);
  if (!header->isObject())
    return failAt(error, path, "invalid header: not a JSON object");
  TensorFile result;
  std::vector<Entry> entries;
  for (const JsonValue::Member &member : header->members()) {
    if (member.first == kMetadataKey) {
      if (!parseMetadata(member.second, result.metadata, problem))
        return failAt(error, path, problem);
      continue;
    }
    entries.emplace_back();
    if (!parseEntry(member.first, member.second, entries.back(), problem))
      return failAt(error, path, problem);
  }
  uint64_t dataStart = kSizeBytes + headerBytes;
  if (!checkLayout(entries, size - dataStart, problem))
    return failAt(error, path, problem);

  // The checksums a writer recorded: one per tensor, of its bytes as stored.
  std::map<std::string, uint32_t> expected;
  for (auto it = result.metadata.begin(); it != result.metadata.end(); ++it) {
    if (it->first.compare(0, sizeof(kChecksumPrefix) - 1, kChecksumPrefix))
      continue;
    std::string name = it->first.substr(sizeof(kChecksumPrefix) - 1);
    const std::string &hex = it->second;
    if (hex.size() != 8 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      return failAt(error, path,
                    "__metadata__ " + quoteJson(it->first) +
                        " is not a CRC-32 of 8 lowercase hex digits");
    expected[name] = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
  }
  for (const auto &[name, crc] : expected) {
    (void)crc;
    if (!std::any_of(entries.begin(), entries.end(),
                     [&](const Entry &e) { return *e.name == name; }))
      return failAt(error, path,
                    "a checksum names tensor " + quoteJson(name) +
                        ", which the file does not hold");
  }
  result.checksummed = !entries.empty() && expected.size() == entries.size();
  for (const Entry &entry : entries) {
    Tensor &tensor = result.tensors[*entry.name];
    tensor.shape = entry.shape;
    uint32_t crc = 0;
    if (!readElements(file, dataStart + entry.begin, entry.type,
                      (entry.end - entry.begin) / itemSize(entry.type), tensor,
                      &crc, error))
      return false;
    auto want = expected.find(*entry.name);
    if (want != expected.end() && want->second != crc) {
      char got[9];
      std::snprintf(got, sizeof got, "%08x", crc);
      return failAt(error, path,
                    "tensor " + quoteJson(*entry.name) +
                        ": the data does not match its checksum (CRC-32 " +
                        got + ", recorded " +
                        result.metadata[kChecksumPrefix + *entry.name] +
                        "): the file is corrupted");
    }
  }
  out = std::move(result);
  return true;
}

bool nlrt::writeSafetensors(const std::string &path, const TensorFile &file,
                            std::string *error) {
  // Every tensor's CRC-32 goes into the metadata, so a reader can tell a
  // damaged file from a valid one.
  std::map<std::string, std::string> metadata = file.metadata;
  for (auto it = metadata.begin(); it != metadata.end();)
    it = it->first.compare(0, sizeof(kChecksumPrefix) - 1, kChecksumPrefix)
             ? std::next(it)
             : metadata.erase(it);
  std::string problem;
  for (const auto &[name, tensor] : file.tensors) {
    if (!tensor.isValid(&problem))
      return failAt(error, path, "tensor " + quoteJson(name) + ": " + problem);
    const void *bytes = tensor.dtype == DType::F32
                            ? static_cast<const void *>(tensor.data.data())
                            : static_cast<const void *>(tensor.ints.data());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", crc32Of(bytes, tensor.size() * 4));
    metadata[kChecksumPrefix + name] = hex;
  }
  // The header's members: the metadata, then the tensors in name order.
  std::vector<std::string> members;
  if (!metadata.empty()) {
    std::string pairs;
    for (const auto &[key, value] : metadata) {
      if (!isValidUtf8(key) || !isValidUtf8(value))
        return failAt(error, path,
                      "metadata " + quoteJson(key) + " is not valid UTF-8");
      pairs +=
          (pairs.empty() ? "" : ",") + quoteJson(key) + ":" + quoteJson(value);
    }
    members.push_back(quoteJson(kMetadataKey) + ":{" + pairs + "}");
  }
  std::vector<ByteSpan> parts(2); // The header size and the header, below.
  uint64_t offset = 0;
  for (const auto &[name, tensor] : file.tensors) {
    if (name == kMetadataKey)
      return failAt(error, path, "a tensor may not be named __metadata__");
    if (!isValidUtf8(name))
      return failAt(error, path,
                    "tensor name " + quoteJson(name) + " is not valid UTF-8");
    uint64_t bytes = tensor.size() * 4;
    std::string shape;
    for (int64_t dim : tensor.shape)
      shape += (shape.empty() ? "" : ",") + std::to_string(dim);
    members.push_back(quoteJson(name) + ":{\"dtype\":\"" +
                      dtypeName(tensor.dtype) + "\",\"shape\":[" + shape +
                      "],\"data_offsets\":[" + std::to_string(offset) + "," +
                      std::to_string(offset + bytes) + "]}");
    parts.push_back({tensor.dtype == DType::F32
                         ? static_cast<const void *>(tensor.data.data())
                         : static_cast<const void *>(tensor.ints.data()),
                     bytes});
    offset += bytes;
  }
  std::string header = "{";
  for (const std::string &member : members)
    header += (header.size() > 1 ? "," : "") + member;
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  unsigned char sizeBytes[kSizeBytes];
  for (size_t i = 0; i < kSizeBytes; ++i)
    sizeBytes[i] =
        static_cast<unsigned char>(uint64_t(header.size()) >> (8 * i));
  parts[0] = {sizeBytes, kSizeBytes};
  parts[1] = {header.data(), header.size()};
  return writeFileAtomically(path, parts, error);
}
