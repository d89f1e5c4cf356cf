//===- nl-run.cpp - Run a compiled nested-learning model on data ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl-run MODEL --input x.npy [--params p.safetensors [--params-partial]]
//        [--params-out p] [--state-in s [--allow-model-mismatch]]
//        [--state-out s] [--output y.npy] [--seed N] [--device cpu|cuda]
//        [--check-inputs M] [--check-state M] [--stats] [--info]
//        [--cotangent dy.npy ... --grad-out g.safetensors
//         --input-grad-out dx.npy --bptt-checkpoint K --bptt-truncate H]
// nl-run --list-devices
//
// MODEL is a compiled library (nlc --emit=lib) or a .nl/.mlir description,
// compiled on the fly by the nlc executable into a cache keyed by the
// source, the options and the compiler version. The model runs on the nlrt
// runtime; this tool only parses flags and moves data. It links nlrt and the
// C++ standard library only, so that it can be copied to a machine without
// LLVM/MLIR (where it runs compiled models; sources need nlc).
//
//===----------------------------------------------------------------------===//

#include "Backward.h"
#include "Compile.h"
#include "Options.h"

#include "nlrt/Files.h"
#include "nlrt/Model.h"
#include "nlrt/Npy.h"
#include "nlrt/Session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <new>
#include <optional>
#include <thread>

using namespace nlrun;

static int fail(const std::string &message) {
  std::cerr << "nl-run: error: " << message << "\n";
  return 1;
}

/// printf-style formatting of one number, for the --stats lines.
static std::string format(const char *spec, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), spec, value);
  return text;
}

int main(int argc, char **argv) {
  Options opts;
  std::string error;
  switch (parseOptions(argc, argv, opts, std::cout, &error)) {
  case ParseResult::Run:
    break;
  case ParseResult::Exit:
    return 0;
  case ParseResult::Error:
    return fail(error);
  }
  if (opts.listDevices) {
    for (const std::string &d : nlrt::listDevices())
      std::cout << d << "\n";
    return 0;
  }
  nlrt::Device device;
  if (!nlrt::parseDevice(opts.device, device))
    return fail("unknown device '" + opts.device +
                "'; expected cpu or cuda (see --list-devices)");
  if (opts.model.empty())
    return fail("no model given (usage: nl-run [options] <model.nl | "
                "model.mlir | model.so>; see --help)");

  std::string lib = opts.model;
  std::string ext = extension(opts.model);
  bool source = ext == ".nl" || ext == ".mlir";
  // -D and --chunk-form change how a source compiles; a compiled model
  // cannot honour them.
  if (!source && !opts.defines.empty())
    return fail("-D " + opts.defines[0] +
                " changes how a model compiles, but '" + opts.model +
                "' is already compiled: pass its .nl/.mlir source, or "
                "compile it again with nlc -D");
  if (!source && opts.chunkForm != "auto")
    return fail("--chunk-form applies when compiling a source; '" + opts.model +
                "' is already compiled (nlc --chunk-form)");
  // Outputs that cannot be written fail now, not after the run.
  for (const std::string *path : {&opts.output, &opts.stateOut, &opts.paramsOut,
                                  &opts.gradOut, &opts.inputGradOut})
    if (!path->empty() && !nlrt::checkWritable(*path, &error))
      return fail(error);
  if (source) {
    // Checked here rather than by nlc, so that the message names nl-run's
    // flag and a bad -D fails before anything is compiled.
    for (const std::string &d : opts.defines) {
      size_t eq = d.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail("-D expects name=value, got '" + d + "'");
    }
    CompileRequest request;
    request.source = opts.model;
    request.defines = opts.defines;
    request.chunkForm = opts.chunkForm;
    request.cacheDir = opts.cacheDir;
    request.cuda = device == nlrt::Device::CUDA;
    request.backward = opts.backward();
    lib = compileCached(request, &error);
    if (lib.empty())
      return fail(error);
  }
  std::unique_ptr<nlrt::Model> model = nlrt::Model::load(lib, &error);
  if (!model)
    return fail(error);
  const nlrt::Manifest &m = model->manifest();
  if (opts.info) {
    std::cout << m.json;
    return 0;
  }
  if (opts.input.empty())
    return fail("--input x.npy is required (or --info)");

  nlrt::Tensor x;
  if (!nlrt::readNpy(opts.input, x, &error))
    return fail(error);
  if (x.shape.size() != 2 && x.shape.size() != 3)
    return fail(opts.input + ": tokens must be [T, " + std::to_string(m.dim) +
                "] or [B, T, " + std::to_string(m.dim) + "], got " +
                nlrt::shapeToString(x.shape));
  if (x.shape.back() != m.dim)
    return fail(opts.input + ": each token has " +
                std::to_string(x.shape.back()) + " values but model '" +
                m.model + "' takes " + std::to_string(m.dim));
  bool batched = x.shape.size() == 3;
  int64_t B = batched ? x.shape[0] : 1;
  int64_t T = x.shape[x.shape.size() - 2];

  std::unique_ptr<nlrt::Session> session =
      nlrt::Session::create(*model, B, opts.seed, &error, device);
  if (!session)
    return fail(error);
  session->setWarningHandler([](const std::string &message) {
    std::cerr << "nl-run: warning: " << message << "\n";
  });
  nlrt::CheckMode checkInputs, checkState;
  nlrt::parseCheckMode(opts.checkInputs, checkInputs); // checked by Options
  nlrt::parseCheckMode(opts.checkState, checkState);
  session->setCheckInputs(checkInputs);
  session->setCheckState(checkState);
  if (opts.paramsPartial && opts.params.empty())
    return fail("--params-partial needs --params");
  nlrt::ParamsOptions paramsOptions;
  paramsOptions.partial = opts.paramsPartial;
  if (!opts.params.empty() &&
      !session->loadParams(opts.params, &error, paramsOptions))
    return fail(error);
  if (!opts.paramsOut.empty() && !session->saveParams(opts.paramsOut, &error))
    return fail(error);
  nlrt::StateOptions stateOptions;
  stateOptions.allowModelMismatch = opts.allowModelMismatch;
  if (!opts.stateIn.empty() &&
      !session->loadState(opts.stateIn, &error, stateOptions))
    return fail(error);
  for (const std::string &l : opts.reset)
    if (!session->resetLevel(l, &error))
      return fail(error);
  for (const std::string &l : opts.freeze)
    if (!session->freezeLevel(l, true, &error))
      return fail(error);

  if (!opts.output.empty() && m.outputs.empty())
    return fail("model '" + m.model + "' returns no output");
  std::vector<std::vector<float>> outputs;
  std::vector<float *> outPtrs;
  for (const auto &shape : m.outputs) {
    std::vector<int64_t> all = {B, T};
    all.insert(all.end(), shape.begin(), shape.end());
    std::optional<int64_t> n = nlrt::checkedNumel(all, sizeof(float));
    if (!n)
      return fail("the outputs of " + std::to_string(B) + " x " +
                  std::to_string(T) + " tokens are too large");
    try {
      outputs.emplace_back(static_cast<size_t>(*n));
    } catch (const std::bad_alloc &) {
      return fail("cannot allocate the outputs of " + std::to_string(B) +
                  " x " + std::to_string(T) + " tokens");
    }
    outPtrs.push_back(outputs.back().data());
  }
  unsigned nthreads = opts.numThreads
                          ? opts.numThreads
                          : std::max(1u, std::thread::hardware_concurrency());
  // The backward: the cotangents in, before anything runs.
  std::vector<std::vector<float>> cotangents;
  std::vector<const float *> dys;
  if (opts.backward()) {
    if (!readCotangents(opts.cotangents, m, B, T, batched, cotangents, &error))
      return fail(error);
    for (const auto &dy : cotangents)
      dys.push_back(dy.empty() ? nullptr : dy.data());
  }
  nlrt::Gradients grads;
  auto start = std::chrono::steady_clock::now();
  if (opts.backward()) {
    nlrt::BackwardOptions backward;
    backward.checkpointEvery = std::max<int64_t>(0, opts.bpttCheckpoint);
    backward.truncate = opts.bpttTruncate;
    backward.inputGrad = !opts.inputGradOut.empty();
    if (!session->backward(x.data.data(), T, dys, outPtrs, grads, nthreads,
                           &error, backward))
      return fail(error);
  } else if (!session->run(x.data.data(), T, outPtrs, nthreads, &error)) {
    return fail(error);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  if (!opts.output.empty()) {
    nlrt::Tensor y;
    if (batched)
      y.shape.push_back(B);
    y.shape.push_back(T);
    y.shape.insert(y.shape.end(), m.outputs[0].begin(), m.outputs[0].end());
    y.data.swap(outputs[0]); // borrowed for the write; --stats reads it next
    bool written = nlrt::writeNpy(opts.output, y, &error);
    y.data.swap(outputs[0]);
    if (!written)
      return fail(error);
  }
  if (!opts.stateOut.empty() && !session->saveState(opts.stateOut, &error))
    return fail(error);
  if (!opts.gradOut.empty() &&
      !writeGradients(opts.gradOut, m, grads, B, &error))
    return fail(error);
  if (!opts.inputGradOut.empty()) {
    nlrt::Tensor dx;
    dx.shape = x.shape;
    dx.data = std::move(grads.input);
    if (!nlrt::writeNpy(opts.inputGradOut, dx, &error))
      return fail(error);
  }
  if (opts.stats) {
    std::cout << "model " << m.model << ": " << B << " stream(s) x " << T
              << " tokens in " << format("%.3f", seconds) << " s, "
              << format("%.0f", B * T / std::max(seconds, 1e-9))
              << " tokens/s\n";
    for (size_t i = 0; i < m.levels.size(); ++i)
      std::cout << "  level " << m.levels[i].name << ": period "
                << m.levels[i].period << ", " << session->clock().updates(i)
                << " update(s), " << session->clock().pending(i)
                << " token(s) pending\n";
    if (!outputs.empty() && !outputs[0].empty()) {
      double sum = 0;
      for (float v : outputs[0])
        sum += v;
      // FNV-1a over the float bytes: a fingerprint to compare runs by, not
      // a security check.
      std::cout << "  output checksum: sum " << format("%.9g", sum)
                << ", fnv1a "
                << hex16(fnv1a64(outputs[0].data(),
                                 outputs[0].size() * sizeof(float)))
                << "\n";
    }
    // Norms of the levels' states; counts (ring positions, fills) as
    // values, one per stream.
    for (size_t j = 0; j < m.state.size(); ++j) {
      if (m.state[j].role != "state")
        continue;
      if (m.state[j].dtype == nlrt::DType::I32) {
        std::cout << "  " << m.state[j].name << " =";
        for (int32_t v : session->counts(j))
          std::cout << " " << v;
        std::cout << "\n";
        continue;
      }
      std::cout << "  |" << m.state[j].name
                << "| = " << format("%.6g", session->stateNorm(j)) << "\n";
    }
  }
  return 0;
}
