//===- ToyModelFiles.h - The toy model of the runtime tests -----*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The toy model (Inputs/ToyModel.h; the build puts toy.so and toy.ptx next
// to the test binary) with manifests written here, in a scratch folder, for
// the tests of devices and of the C API.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_UNITTESTS_RUNTIME_TOYMODELFILES_H
#define NLC_UNITTESTS_RUNTIME_TOYMODELFILES_H

#include "TestFiles.h"

#include "gtest/gtest.h"

#include <climits>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace nlrt_test {

/// The folder of the test binary: the build puts the toy model there.
inline std::string binaryDir() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0)
    return ".";
  path[n] = '\0';
  return std::filesystem::path(path).parent_path().string();
}

/// The toy model's manifest for `target` ("" writes none: a CPU manifest of
/// before targets existed), with `launch` as the CUDA launch object.
inline std::string toyManifest(
    const std::string &target,
    const std::string &launch = R"({"block_size": 32, "arch": "sm_75"})",
    const std::string &stepSymbol = "") {
  bool cuda = target == "cuda";
  std::string step = !stepSymbol.empty() ? stepSymbol
                     : cuda              ? "nl_toy_steps"
                                         : "nl_toy_step";
  std::string json = R"({"format": "nlc-model/1", "model": "toy",
    "model_hash": "0123abcd", "dim": 4, "compiler": {"version": "test"},)";
  if (!target.empty())
    json += R"("target": ")" + target + R"(",)";
  if (cuda && !launch.empty())
    json += R"("launch": )" + launch + ",";
  json += R"("entry_points": {"step": ")" + step +
          R"(", "flush": "nl_toy_flush"},
    "outputs": [[4], [1]],
    "levels": [{"name": "fast", "period": 2, "tail": "drop"},
               {"name": "slow", "period": 3, "tail": "flush"}],
    "params": [{"name": "W", "role": "param", "shape": [4],
                "init": {"kind": "normal", "std": 0.5}}],
    "state": [
      {"name": "fast", "role": "state", "shape": [4], "level": 0,
       "init": {"kind": "zeros"}},
      {"name": "fast.__acc", "role": "accumulator", "shape": [4], "level": 0,
       "init": {"kind": "zeros"}},
      {"name": "slow", "role": "state", "shape": [2, 2], "level": 1,
       "init": {"kind": "identity"}},
      {"name": "slow.__acc", "role": "accumulator", "shape": [2, 2],
       "level": 1, "init": {"kind": "zeros"}}]})";
  return json;
}

/// The toy model in a scratch folder: `cpu.so` + `cpu.json` and `gpu.ptx` +
/// `gpu.json`.
struct ToyModels {
  TempDir dir;
  std::string cpu = dir.path("cpu.so");
  std::string gpu = dir.path("gpu.ptx");
  ToyModels() {
    std::error_code ec;
    std::filesystem::copy_file(binaryDir() + "/toy.so", cpu, ec);
    EXPECT_FALSE(ec) << "no toy.so next to the test binary: " << ec.message();
    writeBytes(dir.path("cpu.json"), toyManifest(""));
    writeBytes(gpu, readBytes(binaryDir() + "/toy.ptx"));
    writeBytes(dir.path("gpu.json"), toyManifest("cuda"));
  }
};

} // namespace nlrt_test

#endif // NLC_UNITTESTS_RUNTIME_TOYMODELFILES_H
