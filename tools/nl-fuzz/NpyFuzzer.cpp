//===- NpyFuzzer.cpp - libFuzzer target for readNpy -----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Feeds arbitrary bytes to nlrt::readNpy() and checks that the result is
// honest, not only that nothing crashed:
//  - on failure: the message starts with "<path>: " and the output is
//    untouched;
//  - on success: the tensor is valid float32 (numel() == size(), no ints),
//    storedAs is F32 or F64, and what was read is what the file holds,
//    re-derived here from the raw bytes: magic and version, the header's
//    descr, fortran_order (False) and shape, a data section of exactly
//    numel elements, and every element (bit for bit; '<f8' narrowed);
//  - the tensor survives a round trip through writeNpy() (whose file has
//    NumPy's layout: version 1.0, header padded to 64 bytes, ending in '\n')
//    and readNpy() bit for bit.
// Built by scripts/fuzz.sh (tools/nl-fuzz/runtime/ builds it without MLIR).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "nlrt/Npy.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace nlfuzz;

namespace {

/// The text after `key`'s closing quote and ':' in the header dict, or npos.
size_t valueOf(const std::string &header, const std::string &key) {
  for (char quote : {'\'', '"'}) {
    size_t at = header.find(quote + key + quote);
    if (at == std::string::npos)
      continue;
    at += key.size() + 2;
    while (at < header.size() && std::strchr(" \t\r\n", header[at]))
      ++at;
    if (at >= header.size() || header[at] != ':')
      return std::string::npos;
    ++at;
    while (at < header.size() && std::strchr(" \t\r\n", header[at]))
      ++at;
    return at;
  }
  return std::string::npos;
}

/// The shape tuple at `at`: "(2, 3)", "(5,)", "()", "(3L,)".
bool shapeAt(const std::string &header, size_t at, std::vector<int64_t> &dims) {
  if (at >= header.size() || header[at] != '(')
    return false;
  size_t close = header.find(')', at);
  if (close == std::string::npos)
    return false;
  std::string inside = header.substr(at + 1, close - at - 1);
  size_t i = 0;
  while (i < inside.size()) {
    if (std::strchr(" \t\r\n,L", inside[i])) {
      ++i;
      continue;
    }
    if (inside[i] < '0' || inside[i] > '9')
      return false;
    int64_t n = 0;
    for (; i < inside.size() && inside[i] >= '0' && inside[i] <= '9'; ++i) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10)
        return false;
      n = n * 10 + (inside[i] - '0');
    }
    dims.push_back(n);
  }
  return true;
}

void checkAgainstBytes(const uint8_t *data, size_t size, const nlrt::Tensor &t) {
  NLFUZZ_CHECK("npy.magic",
               size >= 10 && std::memcmp(data, "\x93NUMPY", 6) == 0,
               "a file without the .npy magic was read");
  int major = data[6], minor = data[7];
  NLFUZZ_CHECK("npy.version", major >= 1 && major <= 3 && minor == 0,
               "format version " + std::to_string(major) + "." +
                   std::to_string(minor) + " was accepted");
  size_t preamble = major == 1 ? 10 : 12;
  NLFUZZ_CHECK("npy.size", size >= preamble, "a truncated preamble was read");
  uint64_t headerBytes = major == 1 ? le16(data + 8) : le32(data + 8);
  NLFUZZ_CHECK("npy.size", headerBytes <= size - preamble,
               "a header length beyond the file was accepted");
  std::string header(reinterpret_cast<const char *>(data) + preamble,
                     headerBytes);
  const uint8_t *payload = data + preamble + headerBytes;
  uint64_t payloadBytes = size - preamble - headerBytes;

  size_t descrAt = valueOf(header, "descr");
  NLFUZZ_CHECK("npy.descr", descrAt != std::string::npos,
               "a header without 'descr' was accepted: " + header);
  std::string descr = header.substr(descrAt, 5);
  bool f8 = descr == "'<f8'" || descr == "\"<f8\"";
  bool f4 = descr == "'<f4'" || descr == "\"<f4\"";
  NLFUZZ_CHECK("npy.descr", f4 || f8,
               "descr " + descr + " was accepted");
  NLFUZZ_CHECK("npy.stored-as", t.storedAs == (f8 ? "F64" : "F32"),
               "storedAs '" + t.storedAs + "' for descr " + descr);
  size_t orderAt = valueOf(header, "fortran_order");
  NLFUZZ_CHECK("npy.order",
               orderAt != std::string::npos &&
                   header.compare(orderAt, 5, "False") == 0,
               "an array that is not in C order was accepted: " + header);
  std::vector<int64_t> dims;
  size_t shapeStart = valueOf(header, "shape");
  NLFUZZ_CHECK("npy.shape",
               shapeStart != std::string::npos &&
                   shapeAt(header, shapeStart, dims),
               "a header whose shape cannot be read was accepted: " + header);
  NLFUZZ_CHECK("npy.shape", dims == t.shape,
               "shape " + nlrt::shapeToString(t.shape) + " read, the header "
               "says " + nlrt::shapeToString(dims));
  size_t item = f8 ? 8 : 4;
  NLFUZZ_CHECK("npy.size", payloadBytes == t.data.size() * item,
               std::to_string(t.data.size()) + " elements read from " +
                   std::to_string(payloadBytes) + " bytes of data");
  for (size_t i = 0; i < t.data.size(); ++i) {
    bool ok;
    if (f8) {
      uint64_t bits = le64(payload + 8 * i);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      ok = isNarrowed(d, t.data[i]);
    } else {
      ok = floatBits(t.data[i]) == le32(payload + 4 * i);
    }
    NLFUZZ_CHECK("npy.values", ok,
                 "element " + std::to_string(i) + " differs from the file");
  }
}

void checkRoundTrip(const nlrt::Tensor &t) {
  static const std::string path = ScratchDir::get().file("round-trip.npy");
  std::string error;
  NLFUZZ_CHECK("npy.write", nlrt::writeNpy(path, t, &error),
               "writeNpy() refused what readNpy() returned: " + error);
  // The layout numpy.save() writes.
  FILE *f = std::fopen(path.c_str(), "rb");
  NLFUZZ_CHECK("npy.write", f != nullptr, "cannot reopen " + path);
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
    bytes.insert(bytes.end(), chunk, chunk + n);
  std::fclose(f);
  NLFUZZ_CHECK("npy.write-layout",
               bytes.size() >= 10 &&
                   std::memcmp(bytes.data(), "\x93NUMPY\x01\x00", 8) == 0,
               "writeNpy() did not write a version 1.0 preamble");
  size_t headerEnd = 10 + le16(bytes.data() + 8);
  NLFUZZ_CHECK("npy.write-layout",
               headerEnd % 64 == 0 && headerEnd <= bytes.size() &&
                   bytes[headerEnd - 1] == '\n' &&
                   bytes.size() - headerEnd == t.data.size() * 4,
               "writeNpy()'s header is not padded to 64 bytes and ended by "
               "'\\n', or its data is not numel * 4 bytes");
  nlrt::Tensor back;
  NLFUZZ_CHECK("npy.reread", nlrt::readNpy(path, back, &error),
               "readNpy() refused what writeNpy() wrote: " + error);
  NLFUZZ_CHECK("npy.round-trip", sameTensor(t, back) && back.storedAs == "F32",
               "the tensor changed in the round trip");
}

void testOneInput(const uint8_t *data, size_t size) {
  InputFile &input = InputFile::get();
  input.set(data, size);
  nlrt::Tensor before;
  before.shape = {2};
  before.data = {1.0f, -0.0f};
  before.storedAs = "sentinel";
  nlrt::Tensor out = before;
  std::string error;
  bool accepted = nlrt::readNpy(input.path(), out, &error);
  tell(accepted, error);
  if (!accepted) {
    NLFUZZ_CHECK("npy.error-prefix", startsWith(error, input.path() + ": "),
                 "error message without the path: " + error);
    NLFUZZ_CHECK("npy.out-untouched",
                 sameTensor(out, before) && out.storedAs == before.storedAs,
                 "a failed read changed its output (" + error + ")");
    return;
  }
  std::string problem;
  NLFUZZ_CHECK("npy.valid", out.isValid(&problem),
               "the tensor read is not valid: " + problem);
  NLFUZZ_CHECK("npy.valid",
               out.dtype == nlrt::DType::F32 && out.ints.empty() &&
                   out.numel() >= 0 && size_t(out.numel()) == out.size() &&
                   out.shape.size() <= nlrt::kMaxRank,
               "the tensor read is not a float32 tensor of rank <= 8 whose "
               "numel matches its data");
  checkAgainstBytes(data, size, out);
  checkRoundTrip(out);
}

} // namespace

NLFUZZ_ENTRY_POINT(testOneInput)
