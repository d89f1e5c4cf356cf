//===- Options.cpp - nl-run's command line --------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "Options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>

using namespace nlrun;

namespace {

enum class Id {
  Input,
  Output,
  Params,
  ParamsPartial,
  ParamsOut,
  StateIn,
  AllowModelMismatch,
  CheckInputs,
  CheckState,
  StateOut,
  Cotangent,
  GradOut,
  InputGradOut,
  BpttCheckpoint,
  BpttTruncate,
  Seed,
  NumThreads,
  Reset,
  Freeze,
  Define,
  ChunkForm,
  CacheDir,
  Device,
  Stats,
  Info,
  ListDevices,
  Help,
  Version,
};

struct Spec {
  Id id;
  const char *name;      ///< Without dashes.
  const char *valueName; ///< nullptr: a flag that takes no value.
  const char *help;
};

/// One table drives both parsing and --help, so the two cannot disagree.
/// `D` is special-cased in the parser: like llvm::cl::Prefix it also takes
/// its value glued on (`-Dname=value`).
const Spec kSpecs[] = {
    {Id::Input, "input", "x.npy",
     "Tokens: float32 .npy of [T, dim] or [B, T, dim]"},
    {Id::Output, "output", "y.npy", "Write the outputs (.npy)"},
    {Id::Params, "params", "p.safetensors",
     "Parameters (safetensors): every parameter of --info by its key, exact "
     "shapes, finite values (F32; F64, F16 and BF16 are converted)"},
    {Id::ParamsPartial, "params-partial", nullptr,
     "Allow --params to hold a subset; the others keep the seed's values "
     "(a warning lists them)"},
    {Id::ParamsOut, "params-out", "p.safetensors",
     "Write the parameters this run used (e.g. drawn from --seed)"},
    {Id::StateIn, "state-in", "s.safetensors",
     "Start from this state (safetensors written by --state-out)"},
    {Id::AllowModelMismatch, "allow-model-mismatch", nullptr,
     "Load a --state-in of another build of the model whose layout matches"},
    {Id::CheckInputs, "check-inputs", "off|warn|error",
     "A NaN or Inf in --input (default error)"},
    {Id::CheckState, "check-state", "off|warn|error",
     "Outputs and states that become NaN or Inf, and such states loaded or "
     "saved (default warn)"},
    {Id::StateOut, "state-out", "s.safetensors",
     "Save the final state (safetensors)"},
    {Id::Cotangent, "cotangent", "dy.npy",
     "Backward: the cotangent of the next output, shaped like it "
     "(repeatable, in output order; missing ones are zero)"},
    {Id::GradOut, "grad-out", "g.safetensors",
     "Backward: write the gradient of every parameter (by its key) and of "
     "the initial state (initial_state.<state>, summed over streams)"},
    {Id::InputGradOut, "input-grad-out", "dx.npy",
     "Backward: write the input's cotangent"},
    {Id::BpttCheckpoint, "bptt-checkpoint", "K",
     "Backward: keep the state every K tokens (default: the manifest's)"},
    {Id::BpttTruncate, "bptt-truncate", "H",
     "Backward: truncate BPTT every H tokens, 0 never (default: the "
     "manifest's)"},
    {Id::Seed, "seed", "N", "Seed of the initializers (default 0)"},
    {Id::NumThreads, "num-threads", "N",
     "Threads over streams (default: all cores)"},
    {Id::Reset, "reset", "level", "Reset a level before running (repeatable)"},
    {Id::Freeze, "freeze", "level", "Freeze a level for this run (repeatable)"},
    {Id::Device, "device", "cpu|cuda",
     "Run on cpu (default) or cuda (sources: nlc --target=cuda)"},
    {Id::ListDevices, "list-devices", nullptr,
     "Print the usable devices, one per line, and exit"},
    {Id::Stats, "stats", nullptr,
     "Print tokens/s, updates per level and state norms"},
    {Id::Info, "info", nullptr, "Print the model's manifest (JSON) and exit"},
    {Id::Define, "D", "name=value",
     "Hyper-parameter override when compiling (repeatable)"},
    {Id::ChunkForm, "chunk-form", "auto|always|never",
     "Compiling: the chunk-parallel form of the step (nlc --chunk-form)"},
    {Id::CacheDir, "cache-dir", "dir", "Where compiled models are cached"},
    {Id::Help, "help", nullptr, "Print this help and exit"},
    {Id::Version, "version", nullptr, "Print the version and exit"},
};

const Spec *lookup(const std::string &name) {
  for (const Spec &s : kSpecs)
    if (name == s.name)
      return &s;
  return nullptr;
}

/// The spelling shown in messages and in --help.
std::string spelling(const Spec &s) {
  return s.id == Id::Define ? std::string("-D") : "--" + std::string(s.name);
}

void printHelp(std::ostream &out) {
  out << "OVERVIEW: nl-run: run a compiled nested-learning model\n\n"
         "USAGE: nl-run [options] <model.nl | model.mlir | model.so>\n\n"
         "  A .nl or .mlir model is compiled on the fly by the nlc executable\n"
         "  ($NLC, else the nlc next to nl-run, else nlc on PATH) into a "
         "cache\n"
         "  (--cache-dir, else $NLC_CACHE_DIR, $XDG_CACHE_HOME/nlc or\n"
         "  ~/.cache/nlc) keyed by the source, nlc --version, the target and\n"
         "  the -D overrides.\n\n"
         "OPTIONS:\n";
  std::vector<std::string> left;
  size_t width = 0;
  for (const Spec &s : kSpecs) {
    std::string l = spelling(s);
    if (s.valueName)
      l += (s.id == Id::Define ? " <" : "=<") + std::string(s.valueName) + ">";
    width = std::max(width, l.size());
    left.push_back(std::move(l));
  }
  for (size_t i = 0; i < left.size(); ++i)
    out << "  " << left[i] << std::string(width + 2 - left[i].size(), ' ')
        << kSpecs[i].help << "\n";
}

/// llvm::cl's spellings of a boolean value.
bool parseBool(const std::string &text, bool &out) {
  if (text == "true" || text == "TRUE" || text == "True" || text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "FALSE" || text == "False" || text == "0") {
    out = false;
    return true;
  }
  return false;
}

/// An unsigned integer, decimal or 0x-hex (as llvm::cl read them); no sign, no
/// trailing characters, at most `max`.
bool parseUnsigned(const std::string &text, uint64_t max, uint64_t &out) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > max)
    return false;
  out = v;
  return true;
}

/// Stores one option's value; false with *error on a bad value.
bool apply(const Spec &s, const std::string &value, Options &o,
           std::string *error) {
  uint64_t n = 0;
  switch (s.id) {
  case Id::Input:
    o.input = value;
    return true;
  case Id::Output:
    o.output = value;
    return true;
  case Id::Params:
    o.params = value;
    return true;
  case Id::ParamsOut:
    o.paramsOut = value;
    return true;
  case Id::CheckInputs:
  case Id::CheckState:
    if (value != "off" && value != "warn" && value != "error") {
      *error = "option '" + spelling(s) +
               "' expects off, warn or error, got '" + value + "'";
      return false;
    }
    (s.id == Id::CheckInputs ? o.checkInputs : o.checkState) = value;
    return true;
  case Id::StateIn:
    o.stateIn = value;
    return true;
  case Id::StateOut:
    o.stateOut = value;
    return true;
  case Id::Cotangent:
    o.cotangents.push_back(value);
    return true;
  case Id::GradOut:
    o.gradOut = value;
    return true;
  case Id::InputGradOut:
    o.inputGradOut = value;
    return true;
  case Id::BpttCheckpoint:
  case Id::BpttTruncate:
    if (!parseUnsigned(value, std::numeric_limits<int32_t>::max(), n))
      break;
    if (s.id == Id::BpttCheckpoint && n == 0) {
      *error = "option '--bptt-checkpoint' must be at least 1";
      return false;
    }
    (s.id == Id::BpttCheckpoint ? o.bpttCheckpoint : o.bpttTruncate) =
        static_cast<int64_t>(n);
    return true;
  case Id::CacheDir:
    o.cacheDir = value;
    return true;
  case Id::Device:
    o.device = value;
    return true;
  case Id::Reset:
    o.reset.push_back(value);
    return true;
  case Id::Freeze:
    o.freeze.push_back(value);
    return true;
  case Id::Define:
    o.defines.push_back(value);
    return true;
  case Id::ChunkForm:
    if (value != "auto" && value != "always" && value != "never") {
      *error = "option '--chunk-form' expects auto, always or never, got '" +
               value + "'";
      return false;
    }
    o.chunkForm = value;
    return true;
  case Id::Seed:
    if (!parseUnsigned(value, std::numeric_limits<uint64_t>::max(), n))
      break;
    o.seed = n;
    return true;
  case Id::NumThreads:
    if (!parseUnsigned(value, std::numeric_limits<unsigned>::max(), n))
      break;
    o.numThreads = static_cast<unsigned>(n);
    return true;
  default: // Flags are handled by the caller.
    return true;
  }
  *error = "option '" + spelling(s) + "' expects an unsigned integer, got '" +
           value + "'";
  return false;
}

} // namespace

ParseResult nlrun::parseOptions(int argc, const char *const *argv,
                                Options &options, std::ostream &out,
                                std::string *error) {
  bool onlyPositional = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // "-" alone is a positional argument, not an option, as for llvm::cl.
    if (onlyPositional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      onlyPositional = true;
      continue;
    }
    // One or two dashes mean the same, as they did with llvm::cl.
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool hasValue = false;
    const Spec *spec = nullptr;
    if (!body.empty() && body[0] == 'D') {
      // -D takes its value glued on (-Dk=v, -D=k=v) or as the next argument.
      spec = lookup("D");
      name = "D";
      value = body.substr(body.size() > 1 && body[1] == '=' ? 2 : 1);
      hasValue = !value.empty();
    } else {
      size_t eq = body.find('=');
      if (eq != std::string::npos) {
        name = body.substr(0, eq);
        value = body.substr(eq + 1);
        hasValue = true;
      }
      spec = lookup(name);
    }
    if (!spec) {
      *error = "unknown option '" + arg.substr(0, arg.find('=')) +
               "' (see nl-run --help)";
      return ParseResult::Error;
    }

    if (!spec->valueName) {
      bool on = true;
      if (hasValue && !parseBool(value, on)) {
        *error = "option '" + spelling(*spec) +
                 "' takes no value (or true/false), got '" + value + "'";
        return ParseResult::Error;
      }
      switch (spec->id) {
      case Id::Stats:
        options.stats = on;
        break;
      case Id::ParamsPartial:
        options.paramsPartial = on;
        break;
      case Id::AllowModelMismatch:
        options.allowModelMismatch = on;
        break;
      case Id::Info:
        options.info = on;
        break;
      case Id::ListDevices:
        options.listDevices = on;
        break;
      case Id::Help:
        if (on) {
          printHelp(out);
          return ParseResult::Exit;
        }
        break;
      case Id::Version:
        if (on) {
          out << "nl-run (nlc " << NLC_VERSION << ")\n";
          return ParseResult::Exit;
        }
        break;
      default:
        break;
      }
      continue;
    }

    if (!hasValue) {
      // As with llvm::cl, the next argument is the value even if it starts
      // with a dash.
      if (i + 1 >= argc) {
        *error = "option '" + spelling(*spec) + "' requires a value (" +
                 spelling(*spec) + (spec->id == Id::Define ? " " : "=") + "<" +
                 spec->valueName + ">)";
        return ParseResult::Error;
      }
      value = argv[++i];
    }
    if (!apply(*spec, value, options, error))
      return ParseResult::Error;
  }

  if (positional.size() > 1) {
    *error = "one model expected, got '" + positional[0] + "' and '" +
             positional[1] + "'";
    return ParseResult::Error;
  }
  if (!positional.empty())
    options.model = positional[0];
  return ParseResult::Run;
}
