//===- TestFiles.h - Scratch files for the nlrt unit tests ------*- C++ -*-===//
//
// A self-removing temporary directory and byte-level file helpers shared by
// the file-format tests.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_UNITTESTS_TESTFILES_H
#define NLRT_UNITTESTS_TESTFILES_H

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace nlrt_test {

/// A fresh directory under the system temp directory, removed with all its
/// contents on destruction.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nlrt-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()))
      root = pattern;
    EXPECT_FALSE(root.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!root.empty())
      std::filesystem::remove_all(root, ignored);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  /// The path of `name` inside the directory.
  std::string path(const std::string &name) const { return root + "/" + name; }
  /// The names of the entries in the directory, sorted.
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(root))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string root;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The raw bytes of `values` (the tests run on little-endian hosts only).
template <typename T> std::string rawBytes(const std::vector<T> &values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// `value` as `count` little-endian bytes.
inline std::string littleEndian(uint64_t value, int count) {
  std::string bytes;
  for (int i = 0; i < count; ++i)
    bytes += static_cast<char>((value >> (8 * i)) & 0xFF);
  return bytes;
}

/// The bit patterns of `values`, for bit-exact comparisons (NaN included).
inline std::vector<uint32_t> bits(const std::vector<float> &values) {
  std::vector<uint32_t> out(values.size());
  if (!values.empty())
    std::memcpy(out.data(), values.data(), values.size() * sizeof(float));
  return out;
}

/// Float values that a lossy path would change: signed zero, infinities, NaN
/// payloads, subnormals, extremes.
inline std::vector<float> trickyFloats() {
  const uint32_t patterns[] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000,
                               0x7fc00001, 0xffbfffff, 0x00000001, 0x807fffff,
                               0x7f7fffff, 0x3f800000, 0xbf8ccccd, 0x4049fdb0};
  std::vector<float> values(std::size(patterns));
  std::memcpy(values.data(), patterns, sizeof(patterns));
  return values;
}

} // namespace nlrt_test

#endif // NLRT_UNITTESTS_TESTFILES_H
