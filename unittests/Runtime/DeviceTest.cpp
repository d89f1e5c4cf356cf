//===- DeviceTest.cpp - Unit tests for devices and CUDA sessions ----------===//
//
// Sessions run a model where it was compiled for: the CPU for a shared
// library, a GPU for a PTX image, and say so when asked otherwise. Without
// an NVIDIA driver or GPU, a CUDA session fails with a message, never a
// crash. With a GPU, a CUDA session of the toy model (Inputs/ToyModel.h)
// must compute what a CPU session of the same model computes, across calls,
// tails, freezes, resets and state and parameter files.
//
//===----------------------------------------------------------------------===//

#include "TestFiles.h"
#include "ToyModelFiles.h"

#include "nlrt/Model.h"
#include "nlrt/Safetensors.h"
#include "nlrt/Session.h"
#include "nlrt/nlrt.h"

#include "gtest/gtest.h"

#include <climits>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using nlrt_test::binaryDir;
using nlrt_test::readBytes;
using nlrt_test::TempDir;
using nlrt_test::toyManifest;
using nlrt_test::ToyModels;
using nlrt_test::writeBytes;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// Whether the CUDA driver reports a GPU on this machine.
bool hasGpu() {
  for (const std::string &d : nlrt::listDevices())
    if (d.rfind("cuda:", 0) == 0)
      return true;
  return false;
}

std::unique_ptr<nlrt::Model> load(const std::string &path) {
  std::string error;
  std::unique_ptr<nlrt::Model> model = nlrt::Model::load(path, &error);
  EXPECT_TRUE(model) << error;
  return model;
}

TEST(DeviceTest, ParseDevice) {
  nlrt::Device d = nlrt::Device::CUDA;
  EXPECT_TRUE(nlrt::parseDevice("cpu", d));
  EXPECT_EQ(d, nlrt::Device::CPU);
  EXPECT_TRUE(nlrt::parseDevice("cuda", d));
  EXPECT_EQ(d, nlrt::Device::CUDA);
  d = nlrt::Device::CPU;
  EXPECT_TRUE(nlrt::parseDevice("cuda:0", d));
  EXPECT_EQ(d, nlrt::Device::CUDA);
  for (const char *bad : {"", "CPU", "gpu", "cuda:", "cuda:1", "cuda0", " cpu"})
    EXPECT_FALSE(nlrt::parseDevice(bad, d)) << "'" << bad << "'";
}

TEST(DeviceTest, ListDevicesStartsWithCpu) {
  std::vector<std::string> devices = nlrt::listDevices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0], "cpu");
  for (size_t i = 1; i < devices.size(); ++i)
    EXPECT_EQ(devices[i].rfind("cuda:" + std::to_string(i - 1), 0), 0u)
        << devices[i];
  // Asking twice is fine (the driver is loaded once).
  EXPECT_EQ(nlrt::listDevices(), devices);
}

TEST(DeviceTest, ManifestTargets) {
  nlrt::Manifest m;
  std::string error;
  ASSERT_TRUE(nlrt::parseManifest(toyManifest(""), m, &error)) << error;
  EXPECT_EQ(m.target, "cpu");
  nlrt::Manifest cpu;
  ASSERT_TRUE(nlrt::parseManifest(toyManifest("cpu"), cpu, &error)) << error;
  EXPECT_EQ(cpu.target, "cpu");
  nlrt::Manifest cuda;
  ASSERT_TRUE(nlrt::parseManifest(toyManifest("cuda"), cuda, &error)) << error;
  EXPECT_EQ(cuda.target, "cuda");
  EXPECT_EQ(cuda.blockSize, 32);
  EXPECT_EQ(cuda.arch, "sm_75");
  EXPECT_EQ(cuda.stepSymbol, "nl_toy_steps");

  nlrt::Manifest bad;
  EXPECT_FALSE(nlrt::parseManifest(toyManifest("tpu"), bad, &error));
  EXPECT_TRUE(contains(error, "unsupported target 'tpu'")) << error;
  bad = nlrt::Manifest();
  EXPECT_FALSE(nlrt::parseManifest(toyManifest("cuda", ""), bad, &error));
  EXPECT_TRUE(contains(error, "launch")) << error;
  bad = nlrt::Manifest();
  EXPECT_FALSE(nlrt::parseManifest(
      toyManifest("cuda", R"({"block_size": 2048})"), bad, &error));
  EXPECT_TRUE(contains(error, "block_size must be in [1, 1024]")) << error;
  bad = nlrt::Manifest();
  EXPECT_FALSE(nlrt::parseManifest(
      toyManifest("cuda", R"({"block_size": 32, "scratch_bytes": -1})"), bad,
      &error));
  EXPECT_TRUE(contains(error, "scratch_bytes must be a non-negative integer"))
      << error;
  nlrt::Manifest scratch;
  ASSERT_TRUE(nlrt::parseManifest(
      toyManifest("cuda", R"({"block_size": 32, "scratch_bytes": 4096})"),
      scratch, &error))
      << error;
  EXPECT_EQ(scratch.scratchBytes, 4096);
}

TEST(DeviceTest, CudaModelLoadsWithoutADriver) {
  ToyModels toy;
  std::unique_ptr<nlrt::Model> model = load(toy.gpu);
  ASSERT_TRUE(model);
  EXPECT_TRUE(model->isCuda());
  EXPECT_EQ(model->target(), "cuda");
  EXPECT_EQ(model->path(), toy.gpu);
  EXPECT_EQ(model->image(), readBytes(toy.gpu));
  EXPECT_EQ(model->step(), nullptr);

  std::unique_ptr<nlrt::Model> cpu = load(toy.cpu);
  ASSERT_TRUE(cpu);
  EXPECT_FALSE(cpu->isCuda());
  EXPECT_TRUE(cpu->image().empty());
  EXPECT_NE(cpu->step(), nullptr);

  writeBytes(toy.gpu, "");
  std::string error;
  EXPECT_FALSE(nlrt::Model::load(toy.gpu, &error));
  EXPECT_TRUE(contains(error, "is empty")) << error;
}

TEST(DeviceTest, CpuSessionRefusesCudaModel) {
  ToyModels toy;
  std::unique_ptr<nlrt::Model> model = load(toy.gpu);
  ASSERT_TRUE(model);
  std::string error;
  EXPECT_FALSE(nlrt::Session::create(*model, 1, 0, &error));
  EXPECT_EQ(error, "model 'toy' was compiled for target cuda; run it with "
                   "--device=cuda");

  // The C API's old entry point is a CPU session too.
  char err[256];
  nlrt_model_t *c = nlrt_model_load(toy.gpu.c_str(), err, sizeof(err));
  ASSERT_NE(c, nullptr) << err;
  EXPECT_EQ(nlrt_session_create(c, 1, 0, err, sizeof(err)), nullptr);
  EXPECT_TRUE(contains(err, "compiled for target cuda")) << err;
  EXPECT_EQ(nlrt_session_create_on(c, 1, 0, "cpu", err, sizeof(err)), nullptr);
  EXPECT_TRUE(contains(err, "compiled for target cuda")) << err;
  nlrt_model_destroy(c);
}

TEST(DeviceTest, CudaSessionRefusesCpuModel) {
  ToyModels toy;
  std::unique_ptr<nlrt::Model> model = load(toy.cpu);
  ASSERT_TRUE(model);
  std::string error;
  EXPECT_FALSE(nlrt::Session::create(*model, 1, 0, &error, nlrt::Device::CUDA));
  EXPECT_TRUE(contains(error, "model 'toy' was compiled for target cpu; run "
                              "it with --device=cpu"))
      << error;

  char err[256];
  nlrt_model_t *c = nlrt_model_load(toy.cpu.c_str(), err, sizeof(err));
  ASSERT_NE(c, nullptr) << err;
  EXPECT_EQ(nlrt_session_create_on(c, 1, 0, "cuda", err, sizeof(err)), nullptr);
  EXPECT_TRUE(contains(err, "compiled for target cpu")) << err;
  EXPECT_EQ(nlrt_session_create_on(c, 1, 0, "tpu", err, sizeof(err)), nullptr);
  EXPECT_STREQ(err, "unknown device 'tpu' (expected cpu, cuda or cuda:0)");
  // NULL is the CPU.
  nlrt_session_t *s = nlrt_session_create_on(c, 2, 0, nullptr, err, 256);
  EXPECT_NE(s, nullptr) << err;
  nlrt_session_destroy(s);
  nlrt_model_destroy(c);
}

TEST(DeviceTest, CudaSessionWithoutGpuFailsClearly) {
  if (hasGpu())
    GTEST_SKIP() << "this machine has a GPU (see CudaMatchesCpu)";
  ToyModels toy;
  std::unique_ptr<nlrt::Model> model = load(toy.gpu);
  ASSERT_TRUE(model);
  std::string error;
  EXPECT_FALSE(nlrt::Session::create(*model, 2, 0, &error, nlrt::Device::CUDA));
  // No driver library at all, or a driver (or the toolkit's stub) that
  // finds no GPU.
  EXPECT_TRUE(contains(error, "CUDA device requested but the NVIDIA driver "
                              "library (libcuda.so.1) could not be loaded: ") ||
              error.rfind("no CUDA device: ", 0) == 0)
      << error;

  char err[512];
  nlrt_model_t *c = nlrt_model_load(toy.gpu.c_str(), err, sizeof(err));
  ASSERT_NE(c, nullptr) << err;
  EXPECT_EQ(nlrt_session_create_on(c, 2, 0, "cuda:0", err, sizeof(err)),
            nullptr);
  EXPECT_EQ(std::string(err), error);
  nlrt_model_destroy(c);
}

TEST(DeviceTest, CpuSessionAppliesTails) {
  ToyModels toy;
  std::unique_ptr<nlrt::Model> model = load(toy.cpu);
  ASSERT_TRUE(model);
  std::string error;
  auto s = nlrt::Session::create(*model, 2, 1, &error);
  ASSERT_TRUE(s) << error;
  std::vector<float> x(2 * 5 * 4, 0.25f), y(2 * 5 * 4), e(2 * 5);
  ASSERT_TRUE(s->run(x.data(), 5, {y.data(), e.data()}, 2, &error)) << error;
  // 5 tokens: "fast" (period 2, drop) dropped its pending token and "slow"
  // (period 3, flush) fired at the end: both accumulators are empty.
  EXPECT_EQ(s->stateNorm(1), 0.0);
  EXPECT_EQ(s->stateNorm(3), 0.0);
  EXPECT_GT(s->stateNorm(0), 0.0);
  EXPECT_EQ(s->clock().updates(0), 2);
  EXPECT_EQ(s->clock().updates(1), 2);
  // Token 0 sees the initial state: fast = 0, slow = identity.
  EXPECT_EQ(y[0], 0.25f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(e[0], 0.0f);
}

TEST(DeviceTest, CudaJitErrorsAreReported) {
  if (!hasGpu())
    GTEST_SKIP() << "no GPU";
  ToyModels toy;
  std::string error;
  writeBytes(toy.gpu, ".version 7.0\n.target sm_75\nthis is not PTX\n");
  std::unique_ptr<nlrt::Model> broken = load(toy.gpu);
  ASSERT_TRUE(broken);
  EXPECT_FALSE(
      nlrt::Session::create(*broken, 1, 0, &error, nlrt::Device::CUDA));
  EXPECT_TRUE(contains(error, "cuModuleLoadDataEx failed")) << error;

  writeBytes(toy.gpu, readBytes(binaryDir() + "/toy.ptx"));
  writeBytes(toy.dir.path("gpu.json"),
             toyManifest("cuda", R"({"block_size": 32})", "nl_nope"));
  std::unique_ptr<nlrt::Model> misnamed = load(toy.gpu);
  ASSERT_TRUE(misnamed);
  EXPECT_FALSE(
      nlrt::Session::create(*misnamed, 1, 0, &error, nlrt::Device::CUDA));
  EXPECT_TRUE(contains(error, "has no kernel 'nl_nope'")) << error;
}

/// Runs the same calls on a CPU and a CUDA session of the toy model and
/// compares everything observable.
class CudaMatchesCpu : public ::testing::Test {
protected:
  static constexpr int64_t kBatch = 3;

  void SetUp() override {
    if (!hasGpu())
      GTEST_SKIP() << "no GPU";
    cpuModel = load(toy.cpu);
    gpuModel = load(toy.gpu);
    ASSERT_TRUE(cpuModel && gpuModel);
    std::string error;
    cpu = nlrt::Session::create(*cpuModel, kBatch, 7, &error);
    ASSERT_TRUE(cpu) << error;
    gpu =
        nlrt::Session::create(*gpuModel, kBatch, 7, &error, nlrt::Device::CUDA);
    ASSERT_TRUE(gpu) << error;
  }

  static void expectClose(const std::vector<float> &actual,
                          const std::vector<float> &expected,
                          const std::string &what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (size_t i = 0; i < actual.size(); ++i)
      ASSERT_NEAR(actual[i], expected[i], 1e-5 * (1 + std::fabs(expected[i])))
          << what << " [" << i << "]";
  }

  /// One call of `tokens` random tokens on both sessions.
  void runBoth(int64_t tokens) {
    std::normal_distribution<float> normal;
    std::vector<float> x(kBatch * tokens * 4);
    for (float &v : x)
      v = normal(rng);
    std::vector<float> y[2], e[2];
    nlrt::Session *sessions[2] = {cpu.get(), gpu.get()};
    for (int i = 0; i < 2; ++i) {
      // Poisoned, so that outputs the GPU does not write show.
      y[i].assign(kBatch * tokens * 4, NAN);
      e[i].assign(kBatch * tokens, NAN);
      std::string error;
      ASSERT_TRUE(sessions[i]->run(x.data(), tokens, {y[i].data(), e[i].data()},
                                   2, &error))
          << error;
    }
    std::string call = "call of " + std::to_string(tokens) + " tokens";
    expectClose(y[1], y[0], call + ", output 0");
    expectClose(e[1], e[0], call + ", output 1");
    EXPECT_EQ(gpu->clock().time(), cpu->clock().time());
  }

  /// The saved states and the norms agree.
  void compareStates() {
    std::string error;
    ASSERT_TRUE(cpu->saveState(dir.path("cpu.safetensors"), &error)) << error;
    ASSERT_TRUE(gpu->saveState(dir.path("gpu.safetensors"), &error)) << error;
    nlrt::TensorFile a, b;
    ASSERT_TRUE(nlrt::readSafetensors(dir.path("cpu.safetensors"), a, &error));
    ASSERT_TRUE(nlrt::readSafetensors(dir.path("gpu.safetensors"), b, &error));
    EXPECT_EQ(a.metadata, b.metadata);
    ASSERT_EQ(a.tensors.size(), 4u);
    for (const auto &[name, t] : a.tensors) {
      EXPECT_EQ(b.tensors[name].shape, t.shape) << name;
      expectClose(b.tensors[name].data, t.data, "state " + name);
    }
    for (size_t j = 0; j < 4; ++j)
      EXPECT_NEAR(gpu->stateNorm(j), cpu->stateNorm(j),
                  1e-5 * (1 + cpu->stateNorm(j)));
  }

  ToyModels toy;
  TempDir dir;
  std::mt19937 rng{42};
  std::unique_ptr<nlrt::Model> cpuModel, gpuModel;
  std::unique_ptr<nlrt::Session> cpu, gpu;
};

TEST_F(CudaMatchesCpu, AcrossCallsTailsAndFiles) {
  std::string error;
  compareStates(); // The initial state was uploaded as initialized.
  runBoth(5);      // Drop and flush tails at the end.
  compareStates();
  runBoth(0); // Nothing pending: nothing fires.
  runBoth(1);
  runBoth(7);
  compareStates();
  for (nlrt::Session *s : {cpu.get(), gpu.get()})
    ASSERT_TRUE(s->freezeLevel("fast", true, &error)) << error;
  runBoth(4);
  for (nlrt::Session *s : {cpu.get(), gpu.get()}) {
    ASSERT_TRUE(s->freezeLevel("fast", false, &error)) << error;
    ASSERT_TRUE(s->resetLevel("slow", &error)) << error;
  }
  compareStates();
  runBoth(6);

  // A state saved on the CPU continues on the GPU (and back).
  runBoth(2);
  ASSERT_TRUE(cpu->saveState(dir.path("mid.safetensors"), &error)) << error;
  runBoth(3);
  for (nlrt::Session *s : {cpu.get(), gpu.get()})
    ASSERT_TRUE(s->loadState(dir.path("mid.safetensors"), &error)) << error;
  compareStates();
  runBoth(3);
  compareStates();

  // New parameters reach the device.
  nlrt::TensorFile params;
  params.tensors["W"] = nlrt::Tensor{{4}, {1.0f, -2.0f, 0.5f, 3.0f}};
  ASSERT_TRUE(nlrt::writeSafetensors(dir.path("p.safetensors"), params, &error))
      << error;
  for (nlrt::Session *s : {cpu.get(), gpu.get()})
    ASSERT_TRUE(s->loadParams(dir.path("p.safetensors"), &error)) << error;
  runBoth(9);
  compareStates();
}

TEST_F(CudaMatchesCpu, CApi) {
  char err[512];
  nlrt_model_t *model = nlrt_model_load(toy.gpu.c_str(), err, sizeof(err));
  ASSERT_NE(model, nullptr) << err;
  nlrt_session_t *s = nlrt_session_create_on(model, 2, 7, "cuda", err, 512);
  ASSERT_NE(s, nullptr) << err;
  std::vector<float> x(2 * 3 * 4, 1.0f), y(2 * 3 * 4, NAN);
  EXPECT_EQ(nlrt_session_run(s, x.data(), 3, y.data(), 1, err, 512), 0) << err;
  for (float v : y)
    EXPECT_FALSE(std::isnan(v));
  EXPECT_EQ(nlrt_session_updates(s, 0), 1);
  nlrt_session_destroy(s);
  nlrt_model_destroy(model);
}

} // namespace
