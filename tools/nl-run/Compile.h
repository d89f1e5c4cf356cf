//===- Compile.h - Compiling model sources through the nlc executable -----===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl-run accepts a .nl/.mlir description as well as a compiled model. It does
// not link the compiler (so that it runs where LLVM/MLIR is not installed);
// it runs the `nlc` executable as a subprocess and keeps the result in a
// cache, so that the second run of the same source starts at once.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TOOLS_NLRUN_COMPILE_H
#define NLC_TOOLS_NLRUN_COMPILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nlrun {

/// 64-bit FNV-1a. Used for cache keys and output checksums only: it is fast
/// and dependency-free, not collision-resistant against an adversary, so it
/// must never stand for a security check.
uint64_t fnv1a64(const void *data, size_t size,
                 uint64_t hash = 0xcbf29ce484222325ull);

/// `value` as 16 lowercase hex digits.
std::string hex16(uint64_t value);

/// The last extension of the path's file name, with its dot ("" if none; a
/// leading dot starts no extension), as llvm::sys::path::extension.
std::string extension(const std::string &path);

/// The `nlc` executable to run: $NLC if set, else `nlc` next to this
/// executable, else plain `nlc` (looked up on PATH when it is spawned).
std::string findCompiler();

struct CompileRequest {
  std::string source;               ///< The .nl or .mlir file.
  std::vector<std::string> defines; ///< `-D name=value`, already checked.
  std::string chunkForm = "auto";   ///< nlc --chunk-form (CPU).
  std::string cacheDir;             ///< --cache-dir; empty: the default.
  bool cuda = false;                ///< --target=cuda, a .ptx model.
  bool backward = false;            ///< nlc --backward (CPU).
};

/// Returns the path of the compiled model in the cache, compiling it first
/// unless a previous run did; an empty string with *error on failure (nlc's
/// own diagnostics have gone to stderr by then).
std::string compileCached(const CompileRequest &request, std::string *error);

} // namespace nlrun

#endif // NLC_TOOLS_NLRUN_COMPILE_H
