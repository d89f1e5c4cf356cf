//===- Options.h - nl-run's command line ----------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A small hand-written parser for nl-run's flags. nl-run links only the
// runtime and the C++ standard library, so that it can be copied to a machine
// without LLVM/MLIR; llvm::cl is therefore not available. The accepted
// spellings are those llvm::cl accepted before: `--opt=value`, `--opt value`
// (one or two leading dashes), `-D name=value`, `-Dname=value`, boolean flags
// with an optional `=true`/`=false`, `--` before positional arguments.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TOOLS_NLRUN_OPTIONS_H
#define NLC_TOOLS_NLRUN_OPTIONS_H

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace nlrun {

/// Everything nl-run reads from its command line. Empty strings mean "not
/// given".
struct Options {
  std::string model; ///< The positional MODEL (.so, .ptx, .nl or .mlir).
  std::string input;
  std::string output;
  std::string params;
  std::string stateIn;
  std::string stateOut;
  std::string cacheDir;
  std::string device = "cpu"; ///< Checked by nlrt::parseDevice in main.
  uint64_t seed = 0;
  unsigned numThreads = 0; ///< 0: all cores.
  std::vector<std::string> reset;
  std::vector<std::string> freeze;
  std::vector<std::string> defines; ///< `-D name=value`, in order.
  std::string chunkForm = "auto";   ///< nlc --chunk-form when compiling.
  std::string paramsOut;            ///< --params-out: write the params used.
  /// The backward (any of these asks for it): the cotangent of each output
  /// in order, where the gradients and the input's cotangent go, and the
  /// BPTT schedule's overrides (-1: the manifest's).
  std::vector<std::string> cotangents;
  std::string gradOut;
  std::string inputGradOut;
  int64_t bpttCheckpoint = -1;
  int64_t bpttTruncate = -1;
  std::string checkInputs = "error"; ///< off|warn|error (nlrt::CheckMode).
  std::string checkState = "warn";   ///< off|warn|error.
  bool paramsPartial = false;
  bool allowModelMismatch = false;
  bool stats = false;
  bool info = false;
  bool listDevices = false;
  /// Whether a flag asks for the backward.
  bool backward() const {
    return !cotangents.empty() || !gradOut.empty() || !inputGradOut.empty();
  }
};

enum class ParseResult {
  Run,   ///< Options parsed; go on.
  Exit,  ///< --help or --version was printed; exit 0.
  Error, ///< *error says why; exit 1.
};

/// Parses argv[1..argc) into `options`. --help and --version print to `out`.
/// The model is not required here (--list-devices needs none); main checks.
ParseResult parseOptions(int argc, const char *const *argv, Options &options,
                         std::ostream &out, std::string *error);

} // namespace nlrun

#endif // NLC_TOOLS_NLRUN_OPTIONS_H
