//===- NpyTest.cpp - Unit tests for the nlrt .npy reader and writer -------===//
//
// Round trips must be bit-exact, files laid out as NumPy writes them must
// load, and malformed files must fail with a message naming the file.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Npy.h"

#include "TestFiles.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace nlrt_test;
using nlrt::readNpy;
using nlrt::Tensor;
using nlrt::writeNpy;

namespace {

/// A .npy file: magic, version, header length, `dict` padded with spaces and
/// a '\n' so that the data starts at a multiple of `align`, then `data`.
std::string npyFile(const std::string &dict, const std::string &data,
                    int major = 1, size_t align = 64) {
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t unpadded = 8 + lengthBytes + dict.size() + 1;
  std::string header = dict + std::string(align - unpadded % align, ' ') + "\n";
  return std::string("\x93NUMPY") + static_cast<char>(major) + '\0' +
         littleEndian(header.size(), static_cast<int>(lengthBytes)) + header +
         data;
}

std::string dictFor(const std::string &descr, const std::string &shape,
                    const char *order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order +
         ", 'shape': " + shape + ", }";
}

void expectRoundTrip(const Tensor &t) {
  TempDir dir;
  std::string path = dir.path("t.npy"), error;
  ASSERT_TRUE(writeNpy(path, t, &error)) << error;
  Tensor back;
  ASSERT_TRUE(readNpy(path, back, &error)) << error;
  EXPECT_EQ(back.shape, t.shape);
  EXPECT_EQ(bits(back.data), bits(t.data));
  EXPECT_EQ(dir.list(), std::vector<std::string>{"t.npy"}); // No temp left.
}

TEST(NpyTest, RoundTripIsBitExact) {
  std::vector<float> tricky = trickyFloats();
  expectRoundTrip({{3, 4}, tricky});
  expectRoundTrip({{12}, tricky});
  expectRoundTrip({{2, 1, 3, 1, 2, 1, 1, 1}, std::vector<float>(12, 0.5f)});
  expectRoundTrip({{}, {42.0f}});
  expectRoundTrip({{0, 4}, {}});
  expectRoundTrip({{0}, {}});
  std::vector<float> big(300 * 7);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<float>(i) * 0.37f - 100.0f;
  expectRoundTrip({{300, 7}, big});
}

TEST(NpyTest, WriterMatchesNumPyBytes) {
  // The exact bytes numpy.save(f, np.arange(6, dtype=np.float32).reshape(2, 3))
  // writes (NumPy 1.24): 21 - len("2") spaces of growth room, then padding
  // to 64 bytes and a newline.
  std::vector<float> values = {0, 1, 2, 3, 4, 5};
  std::string dict = dictFor("<f4", "(2, 3)") + std::string(20, ' ');
  std::string expected = npyFile(dict, rawBytes(values));
  ASSERT_EQ(expected.size(), 128u + 24u);
  EXPECT_EQ(expected.substr(6, 4), std::string("\x01\x00\x76\x00", 4));

  TempDir dir;
  std::string error;
  ASSERT_TRUE(writeNpy(dir.path("a.npy"), {{2, 3}, values}, &error)) << error;
  EXPECT_EQ(readBytes(dir.path("a.npy")), expected);

  // Rank 1 and rank 0, as NumPy spells them.
  ASSERT_TRUE(writeNpy(dir.path("b.npy"), {{5}, {1, 2, 3, 4, 5}}, &error));
  EXPECT_EQ(readBytes(dir.path("b.npy")),
            npyFile(dictFor("<f4", "(5,)") + std::string(20, ' '),
                    rawBytes(std::vector<float>{1, 2, 3, 4, 5})));
  ASSERT_TRUE(writeNpy(dir.path("c.npy"), {{}, {7}}, &error));
  EXPECT_EQ(readBytes(dir.path("c.npy")),
            npyFile(dictFor("<f4", "()"), rawBytes(std::vector<float>{7})));
}

TEST(NpyTest, ReadsFilesAsNumPyWritesThem) {
  TempDir dir;
  std::string path = dir.path("x.npy"), error;
  std::vector<float> values = {1.5f, -2, 3, 4, 5, 6};
  Tensor t;

  // NumPy < 1.24: no growth room; old NumPy: 16-byte alignment.
  for (size_t align : {64, 16}) {
    writeBytes(path,
               npyFile(dictFor("<f4", "(2, 3)"), rawBytes(values), 1, align));
    ASSERT_TRUE(readNpy(path, t, &error)) << error;
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(t.data, values);
  }
  // Format 2.0 and 3.0 (u32 header length).
  for (int major : {2, 3}) {
    writeBytes(path, npyFile(dictFor("<f4", "(6,)"), rawBytes(values), major));
    ASSERT_TRUE(readNpy(path, t, &error)) << error;
    EXPECT_EQ(t.shape, std::vector<int64_t>{6});
    EXPECT_EQ(t.data, values);
  }
  // float64, converted; Python 2 longs; double quotes; no trailing comma.
  std::vector<double> wide = {0.1, -1e300, 1e-300, 2.5};
  writeBytes(path, npyFile("{\"descr\": \"<f8\", \"fortran_order\": False, "
                           "\"shape\": (2L, 2L)}",
                           rawBytes(wide)));
  ASSERT_TRUE(readNpy(path, t, &error)) << error;
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(bits(t.data),
            bits({0.1f, -std::numeric_limits<float>::infinity(), 0.0f, 2.5f}));
  // Keys in another order; a scalar; an empty array.
  writeBytes(path, npyFile("{'shape': (), 'fortran_order': False, "
                           "'descr': '<f4'}",
                           rawBytes(std::vector<float>{9})));
  ASSERT_TRUE(readNpy(path, t, &error)) << error;
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.data, std::vector<float>{9});
  writeBytes(path, npyFile(dictFor("<f4", "(3, 0, 2)"), ""));
  ASSERT_TRUE(readNpy(path, t, &error)) << error;
  EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 0, 2}));
  EXPECT_TRUE(t.data.empty());
}

TEST(NpyTest, MalformedFilesFailCleanly) {
  std::string data6 = rawBytes(std::vector<float>(6, 1.0f));
  std::string good = npyFile(dictFor("<f4", "(2, 3)"), data6);
  std::string v1 = std::string("\x93NUMPY\x01\x00", 8);
  struct Case {
    const char *name;
    std::string bytes;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "empty file"},
      {"wrong magic", "\x93NUMPX" + good.substr(6), "not a .npy file"},
      {"text file", "hello, world\n", "not a .npy file"},
      {"magic only", "\x93NUMPY", "truncated: the file ends in the preamble"},
      {"no header length", v1 + "\x10", "the file ends in the preamble"},
      {"version 4.0", "\x93NUMPY\x04" + good.substr(7),
       "unsupported .npy format version 4.0"},
      {"version 1.1", "\x93NUMPY\x01\x01" + good.substr(8),
       "unsupported .npy format version 1.1"},
      {"lying header length", v1 + littleEndian(0xFFFF, 2) + good.substr(10),
       "truncated header: the header length says 65535 bytes but only 142 "
       "follow"},
      {"huge header length",
       "\x93NUMPY\x02" + std::string(1, '\0') + littleEndian(0x7FFFFFFF, 4) +
           "{}",
       "header length 2147483647 exceeds the limit of 1048576 bytes"},
      {"truncated data", good.substr(0, good.size() - 1),
       "truncated: header says 2x3 float32 (24 bytes) but the file holds 23"},
      {"no data", good.substr(0, 128),
       "truncated: header says 2x3 float32 (24 bytes) but the file holds 0"},
      {"trailing bytes", good + "xyz",
       "trailing bytes: header says 2x3 float32 (24 bytes) but the file "
       "holds 27"},
      {"int32", npyFile(dictFor("<i4", "(2, 3)"), data6),
       "unsupported dtype '<i4' (only '<f4' float32 and '<f8' float64"},
      {"big-endian", npyFile(dictFor(">f4", "(2, 3)"), data6),
       "unsupported dtype '>f4'"},
      {"float16", npyFile(dictFor("<f2", "(2, 3)"), data6),
       "unsupported dtype '<f2'"},
      {"structured",
       npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
               "'shape': (6,), }",
               data6),
       "structured dtypes are not supported"},
      {"fortran order", npyFile(dictFor("<f4", "(2, 3)", "True"), data6),
       "fortran_order True is not supported"},
      {"bad fortran_order", npyFile(dictFor("<f4", "(2, 3)", "'no'"), data6),
       "expected True or False"},
      {"negative dimension", npyFile(dictFor("<f4", "(-2, 3)"), data6),
       "negative dimension"},
      {"overflowing shape",
       npyFile(dictFor("<f4", "(4611686018427387904, 4)"), data6),
       "shape 4611686018427387904x4 of float32 overflows int64 bytes"},
      {"overflowing bytes",
       npyFile(dictFor("<f8", "(1152921504606846976,)"), data6),
       "overflows int64 bytes"},
      {"overflowing dimension",
       npyFile(dictFor("<f4", "(99999999999999999999,)"), data6),
       "dimension in 'shape' overflows int64"},
      {"rank 9", npyFile(dictFor("<f4", "(1, 1, 1, 1, 1, 1, 1, 2, 3)"), data6),
       "rank exceeds the maximum 8"},
      {"missing shape",
       npyFile("{'descr': '<f4', 'fortran_order': False, }", data6),
       "missing key 'shape'"},
      {"unknown key",
       npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), "
               "'extra': 1, }",
               data6),
       "unexpected key 'extra'"},
      {"duplicate key",
       npyFile("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
               "'shape': (6,), }",
               data6),
       "duplicate key 'descr'"},
      {"not a dict", npyFile("[1, 2, 3]", data6),
       "invalid header at byte 0: expected '{'"},
      {"unterminated string",
       npyFile("{'descr: '<f4', 'fortran_order': False, 'shape': (6,), }",
               data6),
       "expected ':'"},
      {"garbage after dict", npyFile(dictFor("<f4", "(6,)") + " x", data6),
       "unexpected text after the header dict"},
      {"shape not a tuple", npyFile(dictFor("<f4", "[2, 3]"), data6),
       "expected '('"},
  };
  TempDir dir;
  std::string path = dir.path("bad.npy");
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    writeBytes(path, c.bytes);
    Tensor t{{1}, {123.0f}};
    std::string error;
    EXPECT_FALSE(readNpy(path, t, &error));
    EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;
    EXPECT_NE(error.find(c.what), std::string::npos) << error;
    // The output is untouched on failure.
    EXPECT_EQ(t.shape, std::vector<int64_t>{1});
    EXPECT_EQ(t.data, std::vector<float>{123.0f});
  }
}

TEST(NpyTest, EveryTruncationAndCorruptionFailsOrReadsInBounds) {
  std::string good =
      npyFile(dictFor("<f4", "(2, 3)"), rawBytes(std::vector<float>(6, 2)));
  TempDir dir;
  std::string path = dir.path("cut.npy"), error;
  Tensor t;
  for (size_t length = 0; length < good.size(); ++length) {
    writeBytes(path, good.substr(0, length));
    EXPECT_FALSE(readNpy(path, t, &error)) << length;
  }
  // Flipping any header byte must never crash (the sanitizer builds check
  // the bounds); a successful read must agree with the file size.
  for (size_t i = 0; i < 128; ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    writeBytes(path, bad);
    if (readNpy(path, t, &error)) {
      EXPECT_EQ(t.data.size() * 4, bad.size() - 128) << i;
    }
  }
}

TEST(NpyTest, PathErrors) {
  TempDir dir;
  std::string error;
  Tensor t;
  EXPECT_FALSE(readNpy(dir.path("missing.npy"), t, &error));
  EXPECT_NE(error.find("missing.npy: cannot open: No such file or directory"),
            std::string::npos)
      << error;
  EXPECT_FALSE(readNpy(dir.root, t, &error));
  EXPECT_EQ(error, dir.root + ": is a directory, not a file");
  EXPECT_FALSE(readNpy(dir.path("missing.npy"), t, nullptr)); // No crash.
}

TEST(NpyTest, WriterRejectsInvalidTensorsAndKeepsOldFile) {
  TempDir dir;
  std::string path = dir.path("w.npy"), error;
  ASSERT_TRUE(writeNpy(path, {{2}, {1, 2}}, &error)) << error;
  std::string before = readBytes(path);

  EXPECT_FALSE(writeNpy(path, {{2, 2}, {1, 2, 3}}, &error));
  EXPECT_NE(error.find("shape 2x2 has 4 elements but the data holds 3"),
            std::string::npos)
      << error;
  EXPECT_FALSE(writeNpy(path, {{-1}, {}}, &error));
  EXPECT_NE(error.find("invalid shape -1"), std::string::npos) << error;
  EXPECT_FALSE(writeNpy(path, {std::vector<int64_t>(9, 1), {1}}, &error));
  EXPECT_NE(error.find("rank 9 exceeds the maximum 8"), std::string::npos)
      << error;
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"w.npy"});

  EXPECT_FALSE(writeNpy(dir.path("no/such/dir/x.npy"), {{1}, {1}}, &error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  EXPECT_EQ(dir.list(), std::vector<std::string>{"w.npy"});
}

} // namespace
