//===- Npy.cpp - NumPy .npy files for the nlc runtime ---------------------===//
//
// The header is parsed by a tiny reader of the one Python dict literal shape
// NumPy writes (string keys; string, bool and int-tuple values), never by
// anything that evaluates it.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Npy.h"

#include "FileIO.h"

#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

using namespace nlrt;
using namespace nlrt::detail;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
/// NumPy aligns the data to this many bytes.
constexpr size_t kAlign = 64;
/// NumPy leaves room for the growth axis to reach this many digits.
constexpr size_t kGrowthDigits = 21;

/// What the header dict says.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// Parser of the header dict; fails with a message on anything unexpected.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view input) : text(input) {}

  bool parse(NpyHeader &header, std::string &error) {
    bool seenDescr = false, seenOrder = false, seenShape = false;
    if (!expect('{'))
      return fail(error);
    while (skipSpace(), peek() != '}') {
      std::string key;
      if (!parseQuoted(key) || !expect(':'))
        return fail(error);
      skipSpace();
      bool *seen = key == "descr"           ? &seenDescr
                   : key == "fortran_order" ? &seenOrder
                   : key == "shape"         ? &seenShape
                                            : nullptr;
      if (!seen)
        problem = "unexpected key '" + key + "'";
      else if (*seen)
        problem = "duplicate key '" + key + "'";
      else if (key == "descr" && peek() != '\'' && peek() != '"')
        problem = "unsupported descr (structured dtypes are not supported)";
      if (!problem.empty())
        return fail(error);
      *seen = true;
      bool ok = key == "descr"           ? parseQuoted(header.descr)
                : key == "fortran_order" ? parseBool(header.fortranOrder)
                                         : parseShape(header.shape);
      if (!ok)
        return fail(error);
      skipSpace();
      if (peek() == ',')
        ++pos;
      else if (peek() != '}')
        return fail(error,
                    "expected ',' or '}' after the value of '" + key + "'");
    }
    ++pos; // '}'
    skipSpace();
    if (pos != text.size())
      return fail(error, "unexpected text after the header dict");
    if (!seenDescr || !seenOrder || !seenShape)
      return fail(error, std::string("missing key '") +
                             (!seenDescr   ? "descr"
                              : !seenOrder ? "fortran_order"
                                           : "shape") +
                             "'");
    return true;
  }

private:
  std::string_view text;
  size_t pos = 0;
  std::string problem;

  bool fail(std::string &error, std::string message = "") {
    if (!message.empty())
      problem = std::move(message);
    error = "invalid header at byte " + std::to_string(pos) + ": " + problem;
    return false;
  }
  bool setProblem(std::string message) {
    problem = std::move(message);
    return false;
  }

  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  void skipSpace() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')
      ++pos;
  }
  bool expect(char c) {
    skipSpace();
    if (peek() != c)
      return setProblem(std::string("expected '") + c + "'");
    ++pos;
    return true;
  }
  bool isDigit() const { return peek() >= '0' && peek() <= '9'; }

  /// A '...' or "..." string without escapes.
  bool parseQuoted(std::string &out) {
    skipSpace();
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return setProblem("expected a quoted string");
    size_t end = text.find(quote, pos + 1);
    if (end == std::string_view::npos)
      return setProblem("unterminated string");
    out.assign(text.substr(pos + 1, end - pos - 1));
    if (out.find('\\') != std::string::npos)
      return setProblem("escapes in strings are not supported");
    pos = end + 1;
    return true;
  }

  bool parseBool(bool &out) {
    for (bool value : {false, true}) {
      std::string_view word = value ? "True" : "False";
      if (text.substr(pos, word.size()) == word) {
        pos += word.size();
        out = value;
        return true;
      }
    }
    return setProblem("expected True or False for 'fortran_order'");
  }

  /// A tuple of non-negative ints: (), (5,), (2, 3); Python 2's "3L" too.
  bool parseShape(std::vector<int64_t> &shape) {
    if (!expect('('))
      return false;
    while (skipSpace(), peek() != ')') {
      if (shape.size() == kMaxRank)
        return setProblem("rank exceeds the maximum " +
                          std::to_string(kMaxRank));
      if (peek() == '-')
        return setProblem("negative dimension in 'shape'");
      if (!isDigit())
        return setProblem("expected a dimension or ')' in 'shape'");
      int64_t dim = 0;
      for (; isDigit(); ++pos) {
        int digit = peek() - '0';
        if (dim > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return setProblem("dimension in 'shape' overflows int64");
        dim = dim * 10 + digit;
      }
      if (peek() == 'L')
        ++pos;
      shape.push_back(dim);
      skipSpace();
      if (peek() == ',')
        ++pos;
      else if (peek() != ')')
        return setProblem("expected ',' or ')' in 'shape'");
    }
    ++pos; // ')'
    return true;
  }
};

std::string typeName(StoredType type) {
  return type == StoredType::F32 ? "float32" : "float64";
}

uint32_t readLittleEndian(const unsigned char *bytes, int count) {
  uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = value << 8 | bytes[i];
  return value;
}

} // namespace

bool nlrt::readNpy(const std::string &path, Tensor &out, std::string *error) {
  InputFile file;
  if (!file.open(path, error))
    return false;
  uint64_t size = file.size();
  if (size == 0)
    return failAt(error, path, "empty file (expected a .npy array)");
  unsigned char preamble[12];
  size_t have = size < sizeof(preamble) ? size : sizeof(preamble);
  if (!file.readAt(0, preamble, have, error))
    return false;
  if (have < kMagicBytes || std::memcmp(preamble, kMagic, kMagicBytes) != 0)
    return failAt(error, path, "not a .npy file (no \\x93NUMPY magic)");
  if (have < 8)
    return failAt(error, path, "truncated: the file ends in the preamble");
  int major = preamble[6], minor = preamble[7];
  if (major < 1 || major > 3 || minor != 0)
    return failAt(error, path,
                  "unsupported .npy format version " + std::to_string(major) +
                      "." + std::to_string(minor) +
                      " (expected 1.0, 2.0 or 3.0)");
  size_t preambleBytes = major == 1 ? 10 : 12;
  if (have < preambleBytes)
    return failAt(error, path, "truncated: the file ends in the preamble");
  uint32_t headerBytes = readLittleEndian(preamble + 8, major == 1 ? 2 : 4);
  if (headerBytes > kMaxNpyHeaderBytes)
    return failAt(error, path,
                  "header length " + std::to_string(headerBytes) +
                      " exceeds the limit of " +
                      std::to_string(kMaxNpyHeaderBytes) + " bytes");
  if (headerBytes > size - preambleBytes)
    return failAt(error, path,
                  "truncated header: the header length says " +
                      std::to_string(headerBytes) + " bytes but only " +
                      std::to_string(size - preambleBytes) + " follow");
  std::string text(headerBytes, '\0');
  if (!file.readAt(preambleBytes, text.data(), headerBytes, error))
    return false;

  NpyHeader header;
  std::string problem;
  if (!HeaderParser(text).parse(header, problem))
    return failAt(error, path, problem);
  StoredType type;
  if (header.descr == "<f4")
    type = StoredType::F32;
  else if (header.descr == "<f8")
    type = StoredType::F64;
  else
    return failAt(error, path,
                  "unsupported dtype '" + header.descr +
                      "' (only '<f4' float32 and '<f8' float64 are supported)");
  if (header.fortranOrder)
    return failAt(error, path,
                  "fortran_order True is not supported (save a C-order array, "
                  "e.g. numpy.ascontiguousarray)");
  std::optional<int64_t> bytes = checkedNumel(header.shape, itemSize(type));
  if (!bytes)
    return failAt(error, path,
                  "shape " + shapeToString(header.shape) + " of " +
                      typeName(type) + " overflows int64 bytes");
  *bytes *= itemSize(type); // checkedNumel() checked the product.
  uint64_t dataStart = preambleBytes + headerBytes;
  uint64_t held = size - dataStart;
  if (held != static_cast<uint64_t>(*bytes))
    return failAt(error, path,
                  std::string(held < static_cast<uint64_t>(*bytes)
                                  ? "truncated"
                                  : "trailing bytes") +
                      ": header says " + shapeToString(header.shape) + " " +
                      typeName(type) + " (" + std::to_string(*bytes) +
                      " bytes) but the file holds " + std::to_string(held));

  Tensor result;
  result.shape = std::move(header.shape);
  if (!readElements(file, dataStart, type,
                    static_cast<size_t>(*bytes / itemSize(type)), result,
                    /*crc=*/nullptr, error))
    return false;
  out = std::move(result);
  return true;
}

bool nlrt::writeNpy(const std::string &path, const Tensor &t,
                    std::string *error) {
  std::string problem;
  if (!t.isValid(&problem))
    return failAt(error, path, "cannot write tensor: " + problem);
  if (t.dtype != DType::F32)
    return failAt(error, path, "cannot write tensor: .npy outputs are float32");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(t.shape[i]);
  shape += t.shape.size() == 1 ? ",)" : ")";
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  if (!t.shape.empty())
    dict.append(kGrowthDigits - std::to_string(t.shape[0]).size(), ' ');
  size_t unpadded = 10 + dict.size() + 1; // Preamble, dict, '\n'.
  dict.append(kAlign - unpadded % kAlign, ' ');
  dict += '\n';
  std::string preamble(kMagic, kMagicBytes);
  preamble += {'\x01', '\x00', static_cast<char>(dict.size() & 0xFF),
               static_cast<char>(dict.size() >> 8)};
  return writeFileAtomically(path,
                             {{preamble.data(), preamble.size()},
                              {dict.data(), dict.size()},
                              {t.data.data(), t.data.size() * sizeof(float)}},
                             error);
}
