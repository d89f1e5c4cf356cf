//===- Backward.cpp - nl-run's gradients in and out ----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "Backward.h"

#include "nlrt/Npy.h"
#include "nlrt/Safetensors.h"

using namespace nlrun;

bool nlrun::readCotangents(const std::vector<std::string> &paths,
                           const nlrt::Manifest &m, int64_t batch,
                           int64_t tokens, bool batched,
                           std::vector<std::vector<float>> &data,
                           std::string *error) {
  if (paths.size() > m.outputs.size()) {
    *error = "model '" + m.model + "' has " + std::to_string(m.outputs.size()) +
             " output(s) but " + std::to_string(paths.size()) +
             " --cotangent files were given";
    return false;
  }
  data.assign(m.outputs.size(), {});
  for (size_t o = 0; o < paths.size(); ++o) {
    nlrt::Tensor dy;
    if (!nlrt::readNpy(paths[o], dy, error))
      return false;
    std::vector<int64_t> expected;
    if (batched)
      expected.push_back(batch);
    expected.push_back(tokens);
    expected.insert(expected.end(), m.outputs[o].begin(), m.outputs[o].end());
    if (dy.shape != expected) {
      *error = paths[o] + ": the cotangent of output " + std::to_string(o) +
               " must be shaped like it, " + nlrt::shapeToString(expected) +
               ", got " + nlrt::shapeToString(dy.shape);
      return false;
    }
    data[o] = std::move(dy.data);
  }
  return true;
}

bool nlrun::writeGradients(const std::string &path, const nlrt::Manifest &m,
                           const nlrt::Gradients &grads, int64_t batch,
                           std::string *error) {
  nlrt::TensorFile file;
  for (size_t i = 0; i < m.params.size(); ++i) {
    nlrt::Tensor t;
    t.shape = m.params[i].shape;
    t.data = grads.params[i];
    file.tensors[m.params[i].paramKey()] = std::move(t);
  }
  for (size_t j = 0; j < m.state.size(); ++j) {
    const nlrt::TensorSpec &s = m.state[j];
    if (s.dtype != nlrt::DType::F32)
      continue;
    nlrt::Tensor t;
    t.shape = s.shape;
    // Summed in double: B streams' terms of one shared initial value.
    std::vector<double> sum(static_cast<size_t>(s.numel), 0.0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < s.numel; ++k)
        sum[k] += grads.state[j][b * s.numel + k];
    t.data.assign(sum.begin(), sum.end());
    file.tensors["initial_state." + s.name] = std::move(t);
  }
  file.metadata["nlc.model"] = m.model;
  file.metadata["nlc.model_hash"] = m.modelHash;
  file.metadata["nlc.gradient_of"] =
      "sum over outputs of <cotangent, output>, summed over streams";
  return nlrt::writeSafetensors(path, file, error);
}
