//===- SeedCorpus.cpp - Seed inputs of the runtime reader fuzzers ---------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//   nl-fuzz-seeds OUT
// writes small seed files for the runtime reader fuzzers into
// OUT/safetensors/, OUT/npy/ and OUT/manifest/: files written by nlrt's own
// writers (writeSafetensors, writeNpy) for a range of shapes and dtypes, and
// hand-made files for what they never write but the readers accept (F64,
// F16, BF16 and I64 tensors, files without checksums; .npy versions 2.0 and
// 3.0, '<f8', double quotes, Python 2 longs; manifests with chunk and head
// entries, ring buffers, a CUDA launch, a library checksum). scripts/fuzz.sh
// adds the files nl-run writes for real models.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Npy.h"
#include "nlrt/Safetensors.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

std::string outDir;
int failures = 0;

void writeBytes(const std::string &path, const std::string &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::fprintf(stderr, "nl-fuzz-seeds: cannot write %s\n", path.c_str());
    ++failures;
  }
  if (f)
    std::fclose(f);
}

nlrt::Tensor floats(std::vector<int64_t> shape, std::vector<float> data) {
  nlrt::Tensor t;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

nlrt::Tensor ints(std::vector<int64_t> shape, std::vector<int32_t> data) {
  nlrt::Tensor t;
  t.shape = std::move(shape);
  t.dtype = nlrt::DType::I32;
  t.ints = std::move(data);
  return t;
}

void safetensors(const std::string &name, const nlrt::TensorFile &file) {
  std::string error;
  if (!nlrt::writeSafetensors(outDir + "/safetensors/" + name, file, &error)) {
    std::fprintf(stderr, "nl-fuzz-seeds: %s\n", error.c_str());
    ++failures;
  }
}

void npy(const std::string &name, const nlrt::Tensor &t) {
  std::string error;
  if (!nlrt::writeNpy(outDir + "/npy/" + name, t, &error)) {
    std::fprintf(stderr, "nl-fuzz-seeds: %s\n", error.c_str());
    ++failures;
  }
}

std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i)
    s += static_cast<char>(v >> (8 * i));
  return s;
}

template <typename T> std::string raw(const std::vector<T> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()),
                     v.size() * sizeof(T));
}

/// A safetensors file from a header (padded to 8 bytes) and a buffer.
std::string stFile(std::string header, const std::string &buffer) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return le(header.size(), 8) + header + buffer;
}

/// A .npy file of version `major` from a header dict and data.
std::string npyFile(int major, std::string dict, const std::string &data) {
  size_t preamble = major == 1 ? 10 : 12;
  dict.append(63 - (preamble + dict.size()) % 64, ' ');
  dict += '\n';
  return std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0' +
         le(dict.size(), major == 1 ? 2 : 4) + dict + data;
}

const char *kManifestFull = R"({
  "format": "nlc-model/1",
  "model": "seed",
  "dim": 4,
  "model_hash": "0123456789abcdef",
  "compiler": {"version": "nlc 0.1.0"},
  "target": "cpu",
  "library": {"bytes": 1234, "crc32": "0badf00d"},
  "hypers": {"lr": 0.5, "beta": 1e-3, "steps": 3},
  "entry_points": {"step": "s", "flush": "f", "chunk": "c", "head_step": "hs", "head_chunk": "hc"},
  "chunk_size": 4,
  "head_split": 2,
  "outputs": [[4], [2, 2]],
  "levels": [
    {"name": "fast", "period": 1, "infinite": false, "tail": "carry", "rule": "#nl.rule<objective = l2>"},
    {"name": "slow", "period": 4, "infinite": false, "tail": "flush"},
    {"name": "attn", "period": 1, "infinite": true, "tail": "drop"}
  ],
  "params": [
    {"name": "W", "role": "param", "dtype": "f32", "shape": [4, 4], "init": {"kind": "normal", "std": 0.02, "mean": 0}},
    {"name": "b", "role": "param", "shape": [4], "init": {"kind": "uniform", "low": -1, "high": 1}},
    {"name": "g", "role": "param", "shape": [4], "init": {"kind": "file", "name": "gain"}},
    {"name": "e", "role": "param", "shape": [2, 2], "init": {"kind": "identity"}}
  ],
  "state": [
    {"name": "M", "role": "state", "shape": [4, 4], "level": 0, "init": {"kind": "param", "name": "W"}},
    {"name": "acc", "role": "accumulator", "shape": [4, 4], "level": 1, "init": {"kind": "fill", "value": 0.25}},
    {"name": "kv", "role": "history", "shape": [2, 4, 2], "level": 2, "init": {"kind": "ones"}},
    {"name": "fill", "role": "state", "dtype": "i32", "shape": [2], "level": 2, "range": [0, 3], "init": {"kind": "zeros"}},
    {"name": "pos", "role": "state", "dtype": "i32", "shape": [2], "level": 2, "range": [0, 2], "ring_fill": "fill", "init": {"kind": "zeros"}}
  ]
})";

const char *kManifestCuda = R"({"format":"nlc-model/1","model":"c","dim":2,"model_hash":"h","target":"cuda","launch":{"block_size":256,"arch":"sm_90","scratch_bytes":64},"entry_points":{"step":"s","flush":"f"},"outputs":[[2]],"levels":[{"name":"S","period":1,"tail":"carry"}],"params":[],"state":[{"name":"S.S","role":"state","shape":[2,2],"level":0,"init":{"kind":"zeros"}}]})";

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: nl-fuzz-seeds OUT\n");
    return 2;
  }
  outDir = argv[1];
  for (const char *sub : {"", "/safetensors", "/npy", "/manifest"})
    ::mkdir((outDir + sub).c_str(), 0755);

  // --- safetensors, written by nlrt -------------------------------------
  nlrt::TensorFile empty;
  safetensors("writer-empty.safetensors", empty);
  nlrt::TensorFile one;
  one.tensors["x"] = floats({}, {1.5f});
  safetensors("writer-scalar.safetensors", one);
  nlrt::TensorFile mixed;
  mixed.tensors["W"] = floats({2, 3}, {1, -2, 3.5f, 0, -0.0f, 1e-40f});
  mixed.tensors["b"] = floats({3}, {std::numeric_limits<float>::infinity(),
                                    std::numeric_limits<float>::quiet_NaN(),
                                    -1});
  mixed.tensors["count"] = ints({2}, {0, 7});
  mixed.tensors["none"] = floats({0, 4}, {});
  mixed.tensors["deep"] = floats({1, 1, 1, 1, 1, 1, 1, 2}, {1, 2});
  mixed.metadata["nlc.model"] = "seed";
  mixed.metadata["nlc.layout"] = R"({"model":"seed","dim":4})";
  safetensors("writer-mixed.safetensors", mixed);
  nlrt::TensorFile names;
  names.tensors["a.b/c \xc3\xa9\"\\\n"] = floats({1}, {2});
  names.tensors[""] = ints({}, {-1});
  safetensors("writer-names.safetensors", names);

  // --- safetensors, by hand: the dtypes nlrt reads but does not write ---
  std::string d = raw(std::vector<double>{1.0, -1e300, 3.4e38, 1e-320});
  std::string h = raw(std::vector<uint16_t>{0x3c00, 0x0001, 0x7c00, 0xfe00});
  std::string bf = raw(std::vector<uint16_t>{0x3f80, 0xff80});
  std::string i64 = raw(std::vector<int64_t>{-2147483648LL, 2147483647LL});
  std::string f32 = raw(std::vector<float>{1, 2});
  std::string i32 = raw(std::vector<int32_t>{5});
  size_t o1 = d.size(), o2 = o1 + h.size(), o3 = o2 + bf.size(),
         o4 = o3 + i64.size(), o5 = o4 + f32.size(), o6 = o5 + i32.size();
  auto span = [](size_t a, size_t b) {
    return "[" + std::to_string(a) + "," + std::to_string(b) + "]";
  };
  writeBytes(outDir + "/safetensors/dtypes.safetensors",
             stFile("{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"d\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":" +
                        span(0, o1) +
                        "},\"h\":{\"dtype\":\"F16\",\"shape\":[4],"
                        "\"data_offsets\":" +
                        span(o1, o2) +
                        "},\"bf\":{\"dtype\":\"BF16\",\"shape\":[1,2],"
                        "\"data_offsets\":" +
                        span(o2, o3) +
                        "},\"i\":{\"dtype\":\"I64\",\"shape\":[2],"
                        "\"data_offsets\":" +
                        span(o3, o4) +
                        "},\"f\":{\"dtype\":\"F32\",\"shape\":[2],"
                        "\"data_offsets\":" +
                        span(o4, o5) +
                        "},\"n\":{\"dtype\":\"I32\",\"shape\":[],"
                        "\"data_offsets\":" +
                        span(o5, o6) + "}}",
                    d + h + bf + i64 + f32 + i32));
  // Entries out of buffer order, an unknown field, no metadata.
  writeBytes(outDir + "/safetensors/unordered.safetensors",
             stFile("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
                    "[4,8],\"extra\":[1,{}]},\"a\":{\"dtype\":\"F32\","
                    "\"shape\":[1],\"data_offsets\":[0,4]}}",
                    f32));
  writeBytes(outDir + "/safetensors/header-only.safetensors", stFile("{}", ""));

  // --- .npy, written by nlrt ----------------------------------------------
  npy("writer-scalar.npy", floats({}, {3}));
  npy("writer-vector.npy", floats({3}, {1, -0.0f, 2}));
  npy("writer-matrix.npy", floats({2, 3}, {1, 2, 3, 4, 5, 6}));
  npy("writer-empty.npy", floats({0}, {}));
  npy("writer-zero-dim.npy", floats({1, 2, 0}, {}));
  npy("writer-rank8.npy", floats({1, 1, 1, 1, 1, 1, 2, 1}, {7, 8}));

  // --- .npy, by hand --------------------------------------------------------
  writeBytes(outDir + "/npy/f8.npy",
             npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                     raw(std::vector<double>{1, 1e300, -1e-310})));
  writeBytes(outDir + "/npy/v2.npy",
             npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }",
                     f32));
  writeBytes(outDir + "/npy/v3-quotes.npy",
             npyFile(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
                     f32));
  writeBytes(outDir + "/npy/py2-long.npy",
             npyFile(1, "{'shape': (2L,), 'fortran_order': False, 'descr': '<f4'}",
                     f32));
  writeBytes(outDir + "/npy/fortran.npy",
             npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }",
                     f32));

  // --- manifests --------------------------------------------------------
  writeBytes(outDir + "/manifest/full.json", kManifestFull);
  writeBytes(outDir + "/manifest/cuda.json", kManifestCuda);
  return failures ? 1 : 0;
}
