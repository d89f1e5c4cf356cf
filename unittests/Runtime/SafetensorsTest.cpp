//===- SafetensorsTest.cpp - Unit tests for the nlrt safetensors I/O ------===//
//
// Round trips must be bit-exact, files laid out as the Python safetensors
// package writes them must load, hostile files must fail with a message
// naming the file, and writes must be atomic.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Safetensors.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <sys/stat.h>
#include <vector>
#include <zlib.h>

using namespace nlrt_test;
using nlrt::readSafetensors;
using nlrt::Tensor;
using nlrt::TensorFile;
using nlrt::writeSafetensors;

namespace {

/// A safetensors file: the header size, `header` padded with spaces to a
/// multiple of 8 (if `pad`), then `buffer`.
std::string stFile(std::string header, const std::string &buffer,
                   bool pad = true) {
  if (pad)
    header.append((8 - header.size() % 8) % 8, ' ');
  return littleEndian(header.size(), 8) + header + buffer;
}

/// The header entry of a tensor.
std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," +
         std::to_string(end) + "]}";
}

/// The metadata without the writer's checksums.
std::map<std::string, std::string>
userMetadata(const std::map<std::string, std::string> &metadata) {
  std::map<std::string, std::string> out;
  for (const auto &[key, value] : metadata)
    if (key.rfind("nlc.crc32.", 0) != 0)
      out[key] = value;
  return out;
}

/// The "nlc.crc32.<name>" value of `bytes`.
std::string crcHex(const std::string &bytes) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx",
                ::crc32(0, reinterpret_cast<const Bytef *>(bytes.data()),
                        static_cast<uInt>(bytes.size())));
  return hex;
}

void expectSame(const TensorFile &a, const TensorFile &b) {
  EXPECT_EQ(userMetadata(a.metadata), userMetadata(b.metadata));
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (auto ia = a.tensors.begin(), ib = b.tensors.begin();
       ia != a.tensors.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.shape, ib->second.shape) << ia->first;
    EXPECT_EQ(ia->second.dtype, ib->second.dtype) << ia->first;
    EXPECT_EQ(bits(ia->second.data), bits(ib->second.data)) << ia->first;
    EXPECT_EQ(ia->second.ints, ib->second.ints) << ia->first;
  }
}

TEST(SafetensorsTest, RoundTripIsBitExact) {
  TensorFile file;
  file.metadata = {{"format", "nlc"}, {"note", "quote \" slash \\ \n é"}};
  file.tensors["w"] = {{3, 4}, trickyFloats()};
  file.tensors["bias"] = {{4}, {1, 2, 3, 4}};
  file.tensors["scalar"] = {{}, {-0.0f}};
  file.tensors["empty"] = {{0, 5}, {}};
  file.tensors["deep.layers.0/ü"] = {{1, 1, 1, 1, 1, 1, 1, 2}, {5, 6}};
  Tensor counts;
  counts.shape = {3};
  counts.dtype = nlrt::DType::I32;
  counts.ints = {0, -7, std::numeric_limits<int32_t>::max()};
  file.tensors["counts"] = counts;

  TempDir dir;
  std::string path = dir.path("m.safetensors"), error;
  ASSERT_TRUE(writeSafetensors(path, file, &error)) << error;
  EXPECT_EQ(dir.list(), std::vector<std::string>{"m.safetensors"});
  std::string bytes = readBytes(path);
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = headerBytes << 8 | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(headerBytes % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + headerBytes + 4 * (12 + 4 + 1 + 0 + 2 + 3));

  TensorFile back;
  ASSERT_TRUE(readSafetensors(path, back, &error)) << error;
  expectSame(back, file);
  EXPECT_TRUE(back.checksummed);
  EXPECT_EQ(back.tensors["counts"].storedAs, "I32");

  // No tensors, no metadata.
  ASSERT_TRUE(writeSafetensors(path, TensorFile(), &error)) << error;
  EXPECT_EQ(readBytes(path), stFile("{}", ""));
  ASSERT_TRUE(readSafetensors(path, back, &error)) << error;
  EXPECT_TRUE(back.tensors.empty() && back.metadata.empty());
  EXPECT_FALSE(back.checksummed);
}

TEST(SafetensorsTest, ChecksumsCatchDamagedData) {
  TensorFile file;
  file.tensors["w"] = {{2, 3}, {1, 2, 3, 4, 5, 6}};
  file.tensors["v"] = {{2}, {7, 8}};
  TempDir dir;
  std::string path = dir.path("c.safetensors"), error;
  ASSERT_TRUE(writeSafetensors(path, file, &error)) << error;
  std::string bytes = readBytes(path);
  // Every single flipped bit of the data buffer is caught.
  size_t data = bytes.size() - 4 * 8;
  for (size_t at = data; at < bytes.size(); ++at)
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = bytes;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      writeBytes(path, bad);
      TensorFile back;
      EXPECT_FALSE(readSafetensors(path, back, &error)) << at << ":" << bit;
      EXPECT_NE(error.find("does not match its checksum"), std::string::npos)
          << error;
    }
}

TEST(SafetensorsTest, ConvertsHalfBFloatAndWideIntegers) {
  // F16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), inf, nan;
  // BF16: 1, -3.5; I64: small values; all exact.
  std::vector<uint16_t> half = {0x3c00, 0xc000, 0x3800, 0x7bff,
                                0x0001, 0x7c00, 0x7e00};
  std::vector<uint16_t> bf = {0x3f80, 0xc060};
  std::vector<int64_t> wide = {0, -5, 2147483647};
  std::string buffer = rawBytes(half) + rawBytes(bf) + rawBytes(wide);
  std::string header = "{" + entry("h", "F16", "[7]", 0, 14) + "," +
                       entry("b", "BF16", "[2]", 14, 18) + "," +
                       entry("i", "I64", "[3]", 18, 42) + "}";
  TempDir dir;
  std::string path = dir.path("x.safetensors"), error;
  writeBytes(path, stFile(header, buffer));
  TensorFile file;
  ASSERT_TRUE(readSafetensors(path, file, &error)) << error;
  const std::vector<float> &h = file.tensors["h"].data;
  ASSERT_EQ(h.size(), 7u);
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 0.5f);
  EXPECT_EQ(h[3], 65504.0f);
  EXPECT_EQ(h[4], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(h[5]) && h[5] > 0);
  EXPECT_TRUE(std::isnan(h[6]));
  EXPECT_EQ(file.tensors["h"].storedAs, "F16");
  EXPECT_EQ(file.tensors["b"].data, (std::vector<float>{1.0f, -3.5f}));
  EXPECT_EQ(file.tensors["i"].dtype, nlrt::DType::I32);
  EXPECT_EQ(file.tensors["i"].ints, (std::vector<int32_t>{0, -5, 2147483647}));
  EXPECT_FALSE(file.checksummed);
}

TEST(SafetensorsTest, MatchesPythonSafetensorsLayout) {
  // safetensors.numpy.save_file({"weight": w, "bias": b},
  //                             metadata={"format": "np"}) writes compact
  // JSON with __metadata__ first and the tensors in name order, padded with
  // spaces to a multiple of 8.
  std::vector<float> bias = {0.5f, -1, 2}, weight = {1, 2, 3, 4, 5, 6};
  std::string header = "{\"__metadata__\":{\"format\":\"np\"}," +
                       entry("bias", "F32", "[3]", 0, 12) + "," +
                       entry("weight", "F32", "[2,3]", 12, 36) + "}";
  std::string expected = stFile(header, rawBytes(bias) + rawBytes(weight));
  ASSERT_EQ(header.size(), 151u); // Padded to 152.
  EXPECT_EQ(expected.substr(0, 8), littleEndian(152, 8));

  TempDir dir;
  std::string path = dir.path("ref.safetensors"), error;
  writeBytes(path, expected);
  TensorFile file;
  ASSERT_TRUE(readSafetensors(path, file, &error)) << error;
  EXPECT_EQ(file.metadata,
            (std::map<std::string, std::string>{{"format", "np"}}));
  EXPECT_EQ(file.tensors["bias"].shape, std::vector<int64_t>{3});
  EXPECT_EQ(file.tensors["bias"].data, bias);
  EXPECT_EQ(file.tensors["weight"].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(file.tensors["weight"].data, weight);

  EXPECT_FALSE(file.checksummed);

  // The writer produces the same layout, with a checksum per tensor in the
  // metadata (in key order, before the tensors).
  std::string out = dir.path("out.safetensors");
  ASSERT_TRUE(writeSafetensors(out, file, &error)) << error;
  std::string withCrc = "{\"__metadata__\":{\"format\":\"np\","
                        "\"nlc.crc32.bias\":\"" +
                        crcHex(rawBytes(bias)) + "\",\"nlc.crc32.weight\":\"" +
                        crcHex(rawBytes(weight)) + "\"}," +
                        entry("bias", "F32", "[3]", 0, 12) + "," +
                        entry("weight", "F32", "[2,3]", 12, 36) + "}";
  EXPECT_EQ(readBytes(out), stFile(withCrc, rawBytes(bias) + rawBytes(weight)));
  ASSERT_TRUE(readSafetensors(out, file, &error)) << error;
  EXPECT_TRUE(file.checksummed);
}

TEST(SafetensorsTest, ReadsOtherValidLayouts) {
  TempDir dir;
  std::string path = dir.path("x.safetensors"), error;
  TensorFile file;
  // Offsets out of name order, F64 converted, extra entry fields ignored,
  // no padding, whitespace in the JSON, a scalar and an empty tensor.
  std::vector<double> wide = {0.25, 1e300, -3};
  std::string header =
      "{ \"b\": {\"dtype\": \"F64\", \"shape\": [3], \"data_offsets\": "
      "[0, 24], \"extra\": [1]},\n" +
      entry("a", "F32", "[]", 24, 28) + "," +
      entry("z", "F32", "[2,0]", 28, 28) + "}";
  writeBytes(
      path,
      stFile(header, rawBytes(wide) + rawBytes(std::vector<float>{7}), false));
  ASSERT_TRUE(readSafetensors(path, file, &error)) << error;
  EXPECT_EQ(bits(file.tensors["b"].data),
            bits({0.25f, std::numeric_limits<float>::infinity(), -3.0f}));
  EXPECT_TRUE(file.tensors["a"].shape.empty());
  EXPECT_EQ(file.tensors["a"].data, std::vector<float>{7});
  EXPECT_EQ(file.tensors["z"].shape, (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(file.metadata.empty());
}

TEST(SafetensorsTest, HostileFilesFailCleanly) {
  std::string data6 = rawBytes(std::vector<float>(6, 1.0f));
  auto one = [&](const std::string &dtype, const std::string &shape,
                 uint64_t begin, uint64_t end) {
    return stFile("{" + entry("w", dtype, shape, begin, end) + "}", data6);
  };
  auto withHeader = [&](const std::string &header) {
    return stFile(header, data6);
  };
  struct Case {
    const char *name;
    std::string bytes;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "empty file"},
      {"short file", std::string("\x10\0\0", 3),
       "truncated: the 3-byte file is too short"},
      {"header size > file", littleEndian(100, 8) + "{}",
       "header size 100 exceeds the 2 bytes that follow it"},
      {"absurd header size", littleEndian(uint64_t(1) << 63, 8) + "{}",
       "header size 9223372036854775808 exceeds the limit of 104857600"},
      {"header size just over the limit",
       littleEndian((uint64_t(100) << 20) + 1, 8),
       "exceeds the limit of 104857600 bytes"},
      {"invalid JSON", withHeader("{\"w\":"),
       "invalid header: JSON error at byte"},
      {"not JSON at all", withHeader("PK\x03\x04"),
       "invalid header: JSON error"},
      {"header not an object", withHeader("[]"),
       "invalid header: not a JSON object"},
      {"deep nesting", withHeader(std::string(10000, '[')),
       "nesting is deeper than the limit"},
      {"invalid UTF-8", withHeader("{\"\xFF\":1}"), "invalid UTF-8"},
      {"duplicate names",
       stFile("{" + entry("w", "F32", "[3]", 0, 12) + "," +
                  entry("w", "F32", "[3]", 12, 24) + "}",
              data6),
       "duplicate key \"w\""},
      {"entry not an object", withHeader("{\"w\":[0,24]}"),
       "tensor \"w\": entry is not a JSON object"},
      {"missing dtype",
       withHeader("{\"w\":{\"shape\":[6],\"data_offsets\":[0,24]}}"),
       "tensor \"w\": missing 'dtype'"},
      {"dtype not a string",
       withHeader(
           "{\"w\":{\"dtype\":4,\"shape\":[6],\"data_offsets\":[0,24]}}"),
       "'dtype' is not a string"},
      {"missing shape",
       withHeader("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,24]}}"),
       "tensor \"w\": missing 'shape'"},
      {"missing data_offsets",
       withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[6]}}"),
       "tensor \"w\": missing 'data_offsets'"},
      {"U8", one("U8", "[24]", 0, 24),
       "tensor \"w\": unsupported dtype \"U8\" (supported: F32, F64, F16, "
       "BF16, I32, I64)"},
      {"BOOL", one("BOOL", "[24]", 0, 24), "unsupported dtype \"BOOL\""},
      {"I16", one("I16", "[12]", 0, 24), "unsupported dtype \"I16\""},
      {"I64 beyond int32",
       stFile("{" + entry("w", "I64", "[3]", 0, 24) + "}",
              rawBytes(std::vector<int64_t>{1, int64_t(1) << 31, 0})),
       "I64 element 1 = 2147483648 does not fit int32"},
      {"wrong checksum",
       withHeader("{\"__metadata__\":{\"nlc.crc32.w\":\"00000000\"}," +
                  entry("w", "F32", "[6]", 0, 24) + "}"),
       "tensor \"w\": the data does not match its checksum"},
      {"checksum of no tensor",
       withHeader("{\"__metadata__\":{\"nlc.crc32.v\":\"00000000\"}," +
                  entry("w", "F32", "[6]", 0, 24) + "}"),
       "a checksum names tensor \"v\", which the file does not hold"},
      {"malformed checksum",
       withHeader("{\"__metadata__\":{\"nlc.crc32.w\":\"xyz\"}," +
                  entry("w", "F32", "[6]", 0, 24) + "}"),
       "is not a CRC-32 of 8 lowercase hex digits"},
      {"negative dimension", one("F32", "[-6]", 0, 24),
       "'shape' is not an array of at most 8 non-negative integers"},
      {"fractional dimension", one("F32", "[6.0]", 0, 24),
       "'shape' is not an array"},
      {"rank 9", one("F32", "[1,1,1,1,1,1,1,1,6]", 0, 24),
       "'shape' is not an array of at most 8"},
      {"overflowing shape", one("F32", "[1099511627776,1099511627776]", 0, 24),
       "shape 1099511627776x1099511627776 of F32 overflows int64 bytes"},
      {"overflowing bytes", one("F64", "[2305843009213693952]", 0, 24),
       "overflows int64 bytes"},
      {"one offset",
       withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],"
                  "\"data_offsets\":[24]}}"),
       "'data_offsets' is not a pair [begin, end]"},
      {"begin > end", one("F32", "[6]", 24, 0), "'data_offsets' is not a pair"},
      {"negative offset",
       withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[6],"
                  "\"data_offsets\":[-4,20]}}"),
       "'data_offsets' is not a pair"},
      {"size mismatch", one("F32", "[5]", 0, 24),
       "tensor \"w\": data_offsets [0, 24) span 24 bytes but shape 5 of F32 "
       "needs 20"},
      {"out of range", one("F32", "[6]", 4, 28),
       "tensor \"w\": data_offsets [4, 28) lie outside the 24-byte data "
       "buffer"},
      {"offsets beyond int64",
       one("F32", "[6]", 18446744073709551584ull, 18446744073709551608ull),
       "'data_offsets' is not a pair"},
      {"overlap",
       stFile("{" + entry("a", "F32", "[4]", 0, 16) + "," +
                  entry("b", "F32", "[4]", 8, 24) + "}",
              data6),
       "tensors \"a\" [0, 16) and \"b\" [8, 24) overlap"},
      {"gap",
       stFile("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                  entry("b", "F32", "[2]", 16, 24) + "}",
              data6),
       "bytes [8, 16) of the data buffer belong to no tensor"},
      {"trailing bytes", one("F32", "[5]", 0, 20),
       "trailing bytes: the tensors cover 20 bytes but the data buffer holds "
       "24"},
      {"buffer without tensors", withHeader("{}"),
       "the tensors cover 0 bytes but the data buffer holds 24"},
      {"metadata not an object",
       withHeader("{\"__metadata__\":\"x\"," + entry("w", "F32", "[6]", 0, 24) +
                  "}"),
       "__metadata__ is not a JSON object"},
      {"metadata value not a string",
       withHeader("{\"__metadata__\":{\"epoch\":3}," +
                  entry("w", "F32", "[6]", 0, 24) + "}"),
       "__metadata__ value of \"epoch\" is not a string"},
  };
  TempDir dir;
  std::string path = dir.path("bad.safetensors");
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    writeBytes(path, c.bytes);
    TensorFile file;
    file.tensors["keep"] = {{1}, {1}};
    std::string error;
    EXPECT_FALSE(readSafetensors(path, file, &error));
    EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;
    EXPECT_NE(error.find(c.what), std::string::npos) << error;
    // The output is untouched on failure.
    EXPECT_EQ(file.tensors.size(), 1u);
    EXPECT_EQ(file.tensors.count("keep"), 1u);
  }
}

TEST(SafetensorsTest, EveryTruncationAndCorruptionFailsOrReadsInBounds) {
  TensorFile file;
  file.metadata["k"] = "v";
  file.tensors["a"] = {{2, 2}, {1, 2, 3, 4}};
  file.tensors["b"] = {{3}, {5, 6, 7}};
  TempDir dir;
  std::string path = dir.path("f.safetensors"), error;
  ASSERT_TRUE(writeSafetensors(path, file, &error)) << error;
  std::string good = readBytes(path);
  TensorFile back;
  for (size_t length = 0; length < good.size(); ++length) {
    writeBytes(path, good.substr(0, length));
    EXPECT_FALSE(readSafetensors(path, back, &error)) << length;
  }
  for (size_t i = 0; i < good.size() - 28; ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x21);
    writeBytes(path, bad);
    readSafetensors(path, back, &error); // Must not crash or read outside.
  }
}

TEST(SafetensorsTest, PathErrors) {
  TempDir dir;
  std::string error;
  TensorFile file;
  EXPECT_FALSE(readSafetensors(dir.path("missing.safetensors"), file, &error));
  EXPECT_NE(error.find("missing.safetensors: cannot open: No such file"),
            std::string::npos)
      << error;
  EXPECT_FALSE(readSafetensors(dir.root, file, &error));
  EXPECT_EQ(error, dir.root + ": is a directory, not a file");
  EXPECT_FALSE(readSafetensors(dir.root, file, nullptr)); // No crash.
}

TEST(SafetensorsTest, WriterRejectsInvalidInput) {
  TempDir dir;
  std::string path = dir.path("w.safetensors"), error;
  TensorFile file;
  file.tensors["w"] = {{2, 3}, {1, 2, 3}};
  EXPECT_FALSE(writeSafetensors(path, file, &error));
  EXPECT_NE(error.find("tensor \"w\": shape 2x3 has 6 elements but the data "
                       "holds 3"),
            std::string::npos)
      << error;
  file.tensors.clear();
  file.tensors["__metadata__"] = {{1}, {1}};
  EXPECT_FALSE(writeSafetensors(path, file, &error));
  EXPECT_NE(error.find("may not be named __metadata__"), std::string::npos);
  file.tensors.clear();
  file.tensors["bad\xFF"] = {{1}, {1}};
  EXPECT_FALSE(writeSafetensors(path, file, &error));
  EXPECT_NE(error.find("is not valid UTF-8"), std::string::npos) << error;
  file.tensors.clear();
  file.metadata["k"] = "\xC0\xAF";
  EXPECT_FALSE(writeSafetensors(path, file, &error));
  EXPECT_NE(error.find("metadata \"k\" is not valid UTF-8"), std::string::npos)
      << error;
  EXPECT_TRUE(dir.list().empty());
}

TEST(SafetensorsTest, FailedWriteLeavesPreviousFileIntact) {
  TempDir dir;
  std::string path = dir.path("ckpt.safetensors"), error;
  TensorFile v1, v2;
  v1.tensors["w"] = {{2}, {1, 2}};
  v2.tensors["w"] = {{3}, {7, 8, 9}};
  v2.metadata["step"] = "2";
  ASSERT_TRUE(writeSafetensors(path, v1, &error)) << error;
  std::string before = readBytes(path);

  // A directory that does not exist: nothing is created anywhere.
  EXPECT_FALSE(writeSafetensors(dir.path("nope/ckpt.safetensors"), v2, &error));
  EXPECT_NE(error.find("nope/ckpt.safetensors: cannot create"),
            std::string::npos)
      << error;
  // An invalid tensor: fails before touching the file.
  TensorFile invalid;
  invalid.tensors["w"] = {{4}, {1}};
  EXPECT_FALSE(writeSafetensors(path, invalid, &error));
  // The rename fails (the target is a non-empty directory): the temporary
  // file is removed and the directory is untouched.
  std::string blocker = dir.path("blocker");
  ASSERT_EQ(::mkdir(blocker.c_str(), 0755), 0);
  writeBytes(blocker + "/inside", "x");
  EXPECT_FALSE(writeSafetensors(blocker, v2, &error));
  EXPECT_NE(error.find("cannot rename"), std::string::npos) << error;
  EXPECT_EQ(readBytes(blocker + "/inside"), "x");
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.list(),
            (std::vector<std::string>{"blocker", "ckpt.safetensors"}));

  // A successful write replaces the file, leaving no temporary behind.
  ASSERT_TRUE(writeSafetensors(path, v2, &error)) << error;
  EXPECT_NE(readBytes(path), before);
  TensorFile back;
  ASSERT_TRUE(readSafetensors(path, back, &error)) << error;
  expectSame(back, v2);
  EXPECT_EQ(dir.list(),
            (std::vector<std::string>{"blocker", "ckpt.safetensors"}));
}

} // namespace
