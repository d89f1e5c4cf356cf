//===- nl-run.cpp - Run a compiled nested-learning model on data ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl-run MODEL --input x.npy [--params p.safetensors] [--state-in s]
//        [--state-out s] [--output y.npy] [--seed N] [--stats] [--info]
//
// MODEL is a compiled library (nlc --emit=lib) or a .nl/.mlir description,
// compiled on the fly into a cache keyed by the source, the options and the
// compiler version. The model runs on the nlrt runtime; this tool only
// parses flags and moves data.
//
//===----------------------------------------------------------------------===//

#include "nlc/Driver/Driver.h"
#include "nlc/InitAll.h"

#include "nlrt/Model.h"
#include "nlrt/Npy.h"
#include "nlrt/Session.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <chrono>
#include <cmath>
#include <thread>

namespace cl = llvm::cl;

static cl::OptionCategory category("nl-run");
static cl::opt<std::string>
    modelPath(cl::Positional, cl::Required,
              cl::desc("<model.nl | model.mlir | model.so>"),
              cl::cat(category));
static cl::opt<std::string>
    inputPath("input",
              cl::desc("Tokens: float32 .npy of [T, dim] or [B, T, dim]"),
              cl::value_desc("x.npy"), cl::cat(category));
static cl::opt<std::string> outputPath("output",
                                       cl::desc("Write the outputs (.npy)"),
                                       cl::value_desc("y.npy"),
                                       cl::cat(category));
static cl::opt<std::string> paramsPath("params",
                                       cl::desc("Parameters (safetensors)"),
                                       cl::value_desc("p.safetensors"),
                                       cl::cat(category));
static cl::opt<std::string>
    stateIn("state-in", cl::desc("Start from this state (safetensors)"),
            cl::value_desc("s.safetensors"), cl::cat(category));
static cl::opt<std::string>
    stateOut("state-out", cl::desc("Save the final state (safetensors)"),
             cl::value_desc("s.safetensors"), cl::cat(category));
static cl::opt<uint64_t> seed("seed",
                              cl::desc("Seed of the initializers (default 0)"),
                              cl::init(0), cl::cat(category));
static cl::opt<unsigned>
    threads("num-threads",
            cl::desc("Threads over streams (default: all cores)"), cl::init(0),
            cl::cat(category));
static cl::list<std::string>
    resetLevels("reset", cl::desc("Reset a level before running"),
                cl::value_desc("level"), cl::cat(category));
static cl::list<std::string>
    freezeLevels("freeze", cl::desc("Freeze a level for this run"),
                 cl::value_desc("level"), cl::cat(category));
static cl::list<std::string>
    defines("D", cl::desc("Hyper-parameter override when compiling"),
            cl::value_desc("name=value"), cl::Prefix, cl::cat(category));
static cl::opt<std::string>
    cacheDir("cache-dir", cl::desc("Where compiled models are cached"),
             cl::value_desc("dir"), cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "nl-run: error: " << message << "\n";
  return 1;
}

/// Compiles a description into the cache unless it is there already; returns
/// the library path.
static std::string compileCached(std::string *error) {
  auto source = llvm::MemoryBuffer::getFile(modelPath, /*IsText=*/true);
  if (!source) {
    *error = "cannot read '" + modelPath + "': " + source.getError().message();
    return {};
  }
  std::string key = (*source)->getBuffer().str() + "|" + nlc::versionString() +
                    "|" + llvm::sys::path::extension(modelPath).str();
  for (const std::string &d : defines)
    key += "|D" + d;
  std::string hash = llvm::utohexstr(llvm::xxh3_64bits(key), true, 16);

  llvm::SmallString<256> dir(cacheDir);
  if (dir.empty()) {
    if (auto env = llvm::sys::Process::GetEnv("NLC_CACHE_DIR"))
      dir = *env;
    else if (auto xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME"))
      llvm::sys::path::append(dir, *xdg, "nlc");
    else if (auto home = llvm::sys::Process::GetEnv("HOME"))
      llvm::sys::path::append(dir, *home, ".cache", "nlc");
    else
      dir = "/tmp/nlc-cache";
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    *error =
        "cannot create the cache '" + dir.str().str() + "': " + ec.message();
    return {};
  }
  llvm::SmallString<256> lib(dir);
  llvm::sys::path::append(lib, llvm::sys::path::stem(modelPath) + "-" + hash +
                                   ".so");
  llvm::SmallString<256> manifest(lib);
  llvm::sys::path::replace_extension(manifest, "json");
  if (llvm::sys::fs::exists(lib) && llvm::sys::fs::exists(manifest))
    return std::string(lib);

  nlc::CompileOptions options;
  options.inputFile = modelPath;
  options.outputFile = std::string(lib);
  options.emit = nlc::Phase::Lib;
  options.optLevel = 3;
  for (const std::string &d : defines) {
    std::optional<nlc::HyperOverride> o = nlc::parseHyperOverride(d);
    if (!o) {
      *error = "-D expects name=value, got '" + d + "'";
      return {};
    }
    options.overrides.push_back(*o);
  }
  if (nlc::compileStandalone(options) != 0) {
    *error = "compiling '" + modelPath + "' failed";
    return {};
  }
  return std::string(lib);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // libLLVM registers -stats and -info of its own; nl-run's mean something
  // else, so they replace them.
  for (const char *name : {"stats", "info"}) {
    auto &registered = cl::getRegisteredOptions();
    auto it = registered.find(name);
    if (it != registered.end())
      it->second->removeArgument();
  }
  cl::opt<bool> stats("stats",
                      cl::desc("Print tokens/s, updates per level and state "
                               "norms"),
                      cl::cat(category));
  cl::opt<bool> info("info",
                     cl::desc("Print the model's manifest (JSON) and exit"),
                     cl::cat(category));
  // The compiler library reads the standard MLIR options (hidden here).
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "nl-run: run a compiled nested-learning model\n");

  std::string error;
  std::string lib = modelPath;
  llvm::StringRef ext = llvm::sys::path::extension(modelPath);
  if (ext == ".nl" || ext == ".mlir") {
    lib = compileCached(&error);
    if (lib.empty())
      return fail(error);
  }
  std::unique_ptr<nlrt::Model> model = nlrt::Model::load(lib, &error);
  if (!model)
    return fail(error);
  const nlrt::Manifest &m = model->manifest();
  if (info) {
    llvm::outs() << m.json;
    return 0;
  }
  if (inputPath.empty())
    return fail("--input x.npy is required (or --info)");

  nlrt::Tensor x;
  if (!nlrt::readNpy(inputPath, x, &error))
    return fail(error);
  if (x.shape.size() != 2 && x.shape.size() != 3)
    return fail(inputPath + ": tokens must be [T, " + std::to_string(m.dim) +
                "] or [B, T, " + std::to_string(m.dim) + "], got " +
                nlrt::shapeToString(x.shape));
  if (x.shape.back() != m.dim)
    return fail(inputPath + ": each token has " +
                std::to_string(x.shape.back()) + " values but model '" +
                m.model + "' takes " + std::to_string(m.dim));
  bool batched = x.shape.size() == 3;
  int64_t B = batched ? x.shape[0] : 1;
  int64_t T = x.shape[x.shape.size() - 2];

  std::unique_ptr<nlrt::Session> session =
      nlrt::Session::create(*model, B, seed, &error);
  if (!session)
    return fail(error);
  if (!paramsPath.empty() && !session->loadParams(paramsPath, &error))
    return fail(error);
  if (!stateIn.empty() && !session->loadState(stateIn, &error))
    return fail(error);
  for (const std::string &l : resetLevels)
    if (!session->resetLevel(l, &error))
      return fail(error);
  for (const std::string &l : freezeLevels)
    if (!session->freezeLevel(l, true, &error))
      return fail(error);

  std::vector<std::vector<float>> outputs;
  std::vector<float *> outPtrs;
  for (const auto &shape : m.outputs) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    outputs.emplace_back(static_cast<size_t>(B * T * n));
    outPtrs.push_back(outputs.back().data());
  }
  unsigned nthreads =
      threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  auto start = std::chrono::steady_clock::now();
  if (!session->run(x.data.data(), T, outPtrs, nthreads, &error))
    return fail(error);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  if (!outputPath.empty()) {
    if (m.outputs.empty())
      return fail("model '" + m.model + "' returns no output");
    nlrt::Tensor y;
    if (batched)
      y.shape.push_back(B);
    y.shape.push_back(T);
    y.shape.insert(y.shape.end(), m.outputs[0].begin(), m.outputs[0].end());
    y.data.swap(outputs[0]); // borrowed for the write; --stats reads it next
    bool written = nlrt::writeNpy(outputPath, y, &error);
    y.data.swap(outputs[0]);
    if (!written)
      return fail(error);
  }
  if (!stateOut.empty() && !session->saveState(stateOut, &error))
    return fail(error);
  if (stats) {
    llvm::outs() << "model " << m.model << ": " << B << " stream(s) x " << T
                 << " tokens in " << llvm::format("%.3f", seconds) << " s, "
                 << llvm::format("%.0f", B * T / std::max(seconds, 1e-9))
                 << " tokens/s\n";
    for (size_t i = 0; i < m.levels.size(); ++i)
      llvm::outs() << "  level " << m.levels[i].name << ": period "
                   << m.levels[i].period << ", " << session->clock().updates(i)
                   << " update(s), " << session->clock().pending(i)
                   << " token(s) pending\n";
    if (!outputs.empty() && !outputs[0].empty()) {
      double sum = 0;
      for (float v : outputs[0])
        sum += v;
      llvm::outs() << "  output checksum: sum " << llvm::format("%.9g", sum)
                   << ", xxh3 "
                   << llvm::utohexstr(llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(
                                          reinterpret_cast<const uint8_t *>(
                                              outputs[0].data()),
                                          outputs[0].size() * sizeof(float))),
                                      true, 16)
                   << "\n";
    }
    for (size_t j = 0; j < m.state.size(); ++j)
      if (m.state[j].role == "state")
        llvm::outs() << "  |" << m.state[j].name
                     << "| = " << llvm::format("%.6g", session->stateNorm(j))
                     << "\n";
  }
  return 0;
}
