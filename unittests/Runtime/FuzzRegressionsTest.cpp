//===- FuzzRegressionsTest.cpp - The fuzzers' findings as unit tests -----===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every manifest the fuzzer found accepted (or refused without a message)
// before it was fixed, in tools/nl-fuzz/regressions/manifest/, must now be
// refused with a message that starts with "manifest: ". scripts/fuzz.sh
// replays the same files through the fuzz harness; this runs them in
// make test.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Model.h"

#include "gtest/gtest.h"

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> filesIn(const std::string &dir) {
  std::vector<std::string> out;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (struct dirent *e = ::readdir(d))
      if (e->d_name[0] != '.')
        out.push_back(dir + "/" + e->d_name);
    ::closedir(d);
  }
  return out;
}

TEST(FuzzRegressionsTest, ManifestFindingsAreRefused) {
  std::vector<std::string> files = filesIn(
      std::string(NLC_SOURCE_DIR) + "/tools/nl-fuzz/regressions/manifest");
  ASSERT_GE(files.size(), 13u);
  for (const std::string &path : files) {
    SCOPED_TRACE(path);
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    nlrt::Manifest m;
    std::string error;
    EXPECT_FALSE(nlrt::parseManifest(text.str(), m, &error));
    EXPECT_EQ(error.rfind("manifest: ", 0), 0u) << error;
    EXPECT_GT(error.size(), std::string("manifest: ").size()) << error;
  }
}

} // namespace
