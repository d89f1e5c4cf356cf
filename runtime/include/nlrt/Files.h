//===- Files.h - Checks on the files the runtime writes ---------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every file nlrt writes (states, parameters, outputs) goes to
// "<path>.tmp.<pid>", is fsync()ed and renamed over <path>, so a reader
// never sees half a file, whatever kills the writer. These helpers let a
// tool refuse a run whose outputs cannot be written before it starts, and
// clear the temporary files that killed writers left.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_FILES_H
#define NLRT_FILES_H

#include <string>

namespace nlrt {

/// Whether `path` can be written atomically: its directory exists and is
/// writable, and `path` is not a directory. Otherwise false and a message
/// ("<path>: ...") in *error.
bool checkWritable(const std::string &path, std::string *error);

/// Removes the "<path>.tmp.<pid>" files of `path` whose writer process no
/// longer exists; returns how many it removed. Every atomic write does this
/// first.
int removeStaleTemporaries(const std::string &path);

} // namespace nlrt

#endif // NLRT_FILES_H
