//===- SafetensorsFuzzer.cpp - libFuzzer target for readSafetensors -------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Feeds arbitrary bytes to nlrt::readSafetensors() and checks that the
// result is honest, not only that nothing crashed:
//  - on failure: the message starts with "<path>: " and the output is
//    untouched;
//  - on success: every tensor is valid (Tensor::isValid, numel() == size()),
//    its dtype and storedAs agree, and what was read is what the file holds,
//    re-derived here from the raw bytes: the header's names, dtypes, shapes
//    and byte ranges (which tile the data buffer exactly), every element
//    (bit for bit; F64 narrowed, F16/BF16 widened, I64 within int32), the
//    metadata, every "nlc.crc32.<name>" checksum, and `checksummed`;
//  - the tensors read survive a round trip through writeSafetensors() and
//    readSafetensors() bit for bit, with their metadata and a checksum each.
// Built by scripts/fuzz.sh (tools/nl-fuzz/runtime/ builds it without MLIR).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "nlrt/Json.h"
#include "nlrt/Safetensors.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

using namespace nlfuzz;

namespace {

constexpr char kPrefix[] = "nlc.crc32.";

int64_t storedSize(const std::string &dtype) {
  if (dtype == "F16" || dtype == "BF16")
    return 2;
  if (dtype == "F32" || dtype == "I32")
    return 4;
  if (dtype == "F64" || dtype == "I64")
    return 8;
  return -1;
}

std::string hex8(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

/// Whether `t` holds exactly the `count` elements of `dtype` at `bytes`.
bool sameElements(const nlrt::Tensor &t, const std::string &dtype,
                  const uint8_t *bytes, size_t count, std::string &why) {
  bool isInt = dtype == "I32" || dtype == "I64";
  if (t.size() != count || (isInt ? !t.data.empty() : !t.ints.empty())) {
    why = "holds " + std::to_string(t.data.size()) + " floats and " +
          std::to_string(t.ints.size()) + " ints for " +
          std::to_string(count) + " stored elements";
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    bool ok;
    if (dtype == "F32")
      ok = floatBits(t.data[i]) == le32(bytes + 4 * i);
    else if (dtype == "F64") {
      uint64_t bits = le64(bytes + 8 * i);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      ok = isNarrowed(d, t.data[i]);
    } else if (dtype == "F16") {
      float want = halfValue(le16(bytes + 2 * i));
      ok = std::isnan(want) ? std::isnan(t.data[i])
                            : floatBits(want) == floatBits(t.data[i]);
    } else if (dtype == "BF16")
      ok = floatBits(t.data[i]) == uint32_t(le16(bytes + 2 * i)) << 16;
    else if (dtype == "I32")
      ok = uint32_t(t.ints[i]) == le32(bytes + 4 * i);
    else {
      int64_t v = static_cast<int64_t>(le64(bytes + 8 * i));
      ok = v >= std::numeric_limits<int32_t>::min() &&
           v <= std::numeric_limits<int32_t>::max() && t.ints[i] == v;
    }
    if (!ok) {
      why = "element " + std::to_string(i) + " differs from the stored " +
            dtype + " value";
      return false;
    }
  }
  return true;
}

nlrt::TensorFile sentinel() {
  nlrt::TensorFile f;
  nlrt::Tensor t;
  t.shape = {1};
  t.data = {42.0f};
  t.storedAs = "F32";
  f.tensors["sentinel"] = t;
  f.metadata["sentinel"] = "untouched";
  f.checksummed = true;
  return f;
}

bool sameFile(const nlrt::TensorFile &a, const nlrt::TensorFile &b) {
  if (a.metadata != b.metadata || a.checksummed != b.checksummed ||
      a.tensors.size() != b.tensors.size())
    return false;
  for (const auto &[name, t] : a.tensors) {
    auto it = b.tensors.find(name);
    if (it == b.tensors.end() || !sameTensor(t, it->second) ||
        t.storedAs != it->second.storedAs)
      return false;
  }
  return true;
}

/// Re-derives the file's contents from its bytes and compares with `got`.
void checkAgainstBytes(const uint8_t *data, size_t size,
                       const nlrt::TensorFile &got) {
  NLFUZZ_CHECK("st.size", size >= 8, "a file of " + std::to_string(size) +
                                         " bytes was read");
  uint64_t headerBytes = le64(data);
  NLFUZZ_CHECK("st.size", headerBytes <= size - 8,
               "header size beyond the file was accepted");
  std::string text(reinterpret_cast<const char *>(data) + 8, headerBytes);
  std::string problem;
  nlrt::JsonLimits limits;
  limits.maxBytes = nlrt::kMaxSafetensorsHeaderBytes;
  std::optional<nlrt::JsonValue> root = nlrt::parseJson(text, &problem, limits);
  NLFUZZ_CHECK("st.header-json", root && root->isObject(),
               "accepted a header that is not a JSON object: " + problem);
  const uint8_t *buffer = data + 8 + headerBytes;
  uint64_t bufferBytes = size - 8 - headerBytes;

  std::map<std::string, std::string> metadata;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  size_t tensors = 0;
  for (const nlrt::JsonValue::Member &m : root->members()) {
    if (m.first == "__metadata__") {
      NLFUZZ_CHECK("st.metadata", m.second.isObject(),
                   "__metadata__ is not an object");
      for (const nlrt::JsonValue::Member &kv : m.second.members()) {
        std::string value;
        NLFUZZ_CHECK("st.metadata", kv.second.asString(value),
                     "non-string metadata value of '" + kv.first +
                         "' was accepted");
        metadata[kv.first] = value;
      }
      continue;
    }
    ++tensors;
    auto it = got.tensors.find(m.first);
    NLFUZZ_CHECK("st.names", it != got.tensors.end(),
                 "tensor " + nlrt::quoteJson(m.first) +
                     " of the header was not read");
    const nlrt::Tensor &t = it->second;
    std::string what = "tensor " + nlrt::quoteJson(m.first) + ": ";
    const nlrt::JsonValue *dtype = m.second.get("dtype");
    const nlrt::JsonValue *shape = m.second.get("shape");
    const nlrt::JsonValue *offsets = m.second.get("data_offsets");
    std::string type;
    NLFUZZ_CHECK("st.entry", dtype && dtype->asString(type) && shape &&
                                 shape->isArray() && offsets &&
                                 offsets->isArray() && offsets->size() == 2,
                 what + "a malformed entry was accepted");
    int64_t item = storedSize(type);
    NLFUZZ_CHECK("st.dtype", item > 0,
                 what + "unsupported dtype '" + type + "' was accepted");
    NLFUZZ_CHECK("st.stored-as", t.storedAs == type,
                 what + "storedAs '" + t.storedAs + "' for dtype '" + type +
                     "'");
    std::vector<int64_t> dims;
    for (const nlrt::JsonValue &d : shape->elements()) {
      int64_t n = -1;
      NLFUZZ_CHECK("st.shape", d.asInt(n) && n >= 0,
                   what + "a shape entry that is not a natural was accepted");
      dims.push_back(n);
    }
    NLFUZZ_CHECK("st.shape", t.shape == dims,
                 what + "shape " + nlrt::shapeToString(t.shape) +
                     " read, the header says " + nlrt::shapeToString(dims));
    int64_t begin = -1, end = -1;
    NLFUZZ_CHECK("st.offsets",
                 offsets->at(0)->asInt(begin) && offsets->at(1)->asInt(end) &&
                     0 <= begin && begin <= end &&
                     uint64_t(end) <= bufferBytes,
                 what + "data_offsets outside the buffer were accepted");
    std::optional<int64_t> numel = nlrt::checkedNumel(dims, item);
    NLFUZZ_CHECK("st.offsets", numel && *numel * item == end - begin,
                 what + "data_offsets [" + std::to_string(begin) + ", " +
                     std::to_string(end) + ") do not hold shape " +
                     nlrt::shapeToString(dims) + " of " + type);
    ranges.push_back({uint64_t(begin), uint64_t(end)});
    std::string why;
    NLFUZZ_CHECK("st.values",
                 sameElements(t, type, buffer + begin, size_t(*numel), why),
                 what + why);
    // Every checksum is verified: a recorded one matches the bytes.
    if (const nlrt::JsonValue *meta = root->get("__metadata__"))
      if (const nlrt::JsonValue *v = meta->get(kPrefix + m.first)) {
        std::string hex;
        v->asString(hex);
        NLFUZZ_CHECK("st.checksum",
                     hex == hex8(crc32(buffer + begin, size_t(end - begin))),
                     what + "accepted although the data's CRC-32 is " +
                         hex8(crc32(buffer + begin, size_t(end - begin))) +
                         " and the file records " + hex);
      }
  }
  NLFUZZ_CHECK("st.names", tensors == got.tensors.size(),
               std::to_string(got.tensors.size()) + " tensors read, the "
               "header has " + std::to_string(tensors));
  NLFUZZ_CHECK("st.metadata", metadata == got.metadata,
               "the metadata read differs from the header's");
  // The ranges tile the buffer: no gap, no overlap, nothing after.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto &[b, e] : ranges) {
    NLFUZZ_CHECK("st.layout", b == covered,
                 "tensor byte ranges overlap or leave a gap at byte " +
                     std::to_string(covered) + " of the buffer");
    covered = e;
  }
  NLFUZZ_CHECK("st.layout", covered == bufferBytes,
               "the tensors cover " + std::to_string(covered) +
                   " bytes of a " + std::to_string(bufferBytes) +
                   "-byte buffer");
  // Checksums name tensors that exist; `checksummed` says all have one.
  size_t withCrc = 0;
  for (const auto &[key, value] : metadata)
    if (startsWith(key, kPrefix)) {
      std::string name = key.substr(sizeof(kPrefix) - 1);
      NLFUZZ_CHECK("st.checksum", got.tensors.count(name),
                   "a checksum of the missing tensor " +
                       nlrt::quoteJson(name) + " was accepted");
      NLFUZZ_CHECK("st.checksum",
                   value.size() == 8 &&
                       value.find_first_not_of("0123456789abcdef") ==
                           std::string::npos,
                   "a malformed checksum " + nlrt::quoteJson(value) +
                       " was accepted");
      ++withCrc;
    }
  bool all = !got.tensors.empty() && withCrc == got.tensors.size();
  NLFUZZ_CHECK("st.checksummed", got.checksummed == all,
               std::string("checksummed is ") +
                   (got.checksummed ? "true" : "false") + " with " +
                   std::to_string(withCrc) + " checksums for " +
                   std::to_string(got.tensors.size()) + " tensors");
}

void checkRoundTrip(const nlrt::TensorFile &got) {
  static const std::string path =
      ScratchDir::get().file("round-trip.safetensors");
  std::string error;
  NLFUZZ_CHECK("st.write", nlrt::writeSafetensors(path, got, &error),
               "writeSafetensors() refused what readSafetensors() returned: " +
                   error);
  nlrt::TensorFile back;
  NLFUZZ_CHECK("st.reread", nlrt::readSafetensors(path, back, &error),
               "readSafetensors() refused what writeSafetensors() wrote: " +
                   error);
  NLFUZZ_CHECK("st.round-trip", back.tensors.size() == got.tensors.size(),
               "the round trip changed the number of tensors");
  for (const auto &[name, t] : got.tensors) {
    auto it = back.tensors.find(name);
    NLFUZZ_CHECK("st.round-trip",
                 it != back.tensors.end() && sameTensor(t, it->second) &&
                     it->second.storedAs == nlrt::dtypeName(t.dtype),
                 "tensor " + nlrt::quoteJson(name) +
                     " changed in the round trip");
  }
  NLFUZZ_CHECK("st.round-trip", back.checksummed == !got.tensors.empty(),
               "a file written by writeSafetensors() is not checksummed");
  for (const auto &[key, value] : got.metadata)
    if (!startsWith(key, kPrefix)) {
      auto it = back.metadata.find(key);
      NLFUZZ_CHECK("st.round-trip",
                   it != back.metadata.end() && it->second == value,
                   "metadata " + nlrt::quoteJson(key) +
                       " changed in the round trip");
    }
}

void testOneInput(const uint8_t *data, size_t size) {
  InputFile &input = InputFile::get();
  input.set(data, size);
  const nlrt::TensorFile before = sentinel();
  nlrt::TensorFile out = before;
  std::string error;
  bool accepted = nlrt::readSafetensors(input.path(), out, &error);
  tell(accepted, error);
  if (!accepted) {
    NLFUZZ_CHECK("st.error-prefix", startsWith(error, input.path() + ": "),
                 "error message without the path: " + error);
    NLFUZZ_CHECK("st.out-untouched", sameFile(out, before),
                 "a failed read changed its output (" + error + ")");
    return;
  }
  for (const auto &[name, t] : out.tensors) {
    std::string problem;
    NLFUZZ_CHECK("st.valid", t.isValid(&problem),
                 "tensor " + nlrt::quoteJson(name) + " is not valid: " +
                     problem);
    NLFUZZ_CHECK("st.valid", t.numel() >= 0 && size_t(t.numel()) == t.size(),
                 "tensor " + nlrt::quoteJson(name) + ": numel " +
                     std::to_string(t.numel()) + " but " +
                     std::to_string(t.size()) + " elements");
    NLFUZZ_CHECK("st.valid", t.shape.size() <= nlrt::kMaxRank,
                 "tensor " + nlrt::quoteJson(name) + " of rank " +
                     std::to_string(t.shape.size()));
    NLFUZZ_CHECK("st.names", name != "__metadata__",
                 "a tensor named __metadata__");
  }
  checkAgainstBytes(data, size, out);
  checkRoundTrip(out);
}

} // namespace

NLFUZZ_ENTRY_POINT(testOneInput)
