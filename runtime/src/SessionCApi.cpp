//===- SessionCApi.cpp - Plain-C API of models and sessions ---------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Model.h"
#include "nlrt/Session.h"
#include "nlrt/Tensor.h"
#include "nlrt/nlrt.h"

#include <algorithm>
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

struct nlrt_model {
  std::unique_ptr<nlrt::Model> model;
  int64_t outputSize = 0;
};

struct nlrt_session {
  const nlrt_model *owner;
  std::unique_ptr<nlrt::Session> session;
};

namespace {

void setError(char *err, size_t errlen, const std::string &message) {
  if (!err || errlen == 0)
    return;
  size_t n = message.size() < errlen - 1 ? message.size() : errlen - 1;
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

/// Runs `body` and turns failures and exceptions into -1 and a message.
template <typename Fn> int guarded(char *err, size_t errlen, Fn body) {
  setError(err, errlen, "");
  try {
    std::string error;
    if (body(error))
      return 0;
    setError(err, errlen, error.empty() ? "failed" : error);
  } catch (const std::exception &e) {
    setError(err, errlen, e.what());
  } catch (...) {
    setError(err, errlen, "unknown error");
  }
  return -1;
}

} // namespace

extern "C" {

nlrt_model_t *nlrt_model_load(const char *path, char *err, size_t errlen) {
  nlrt_model_t *result = nullptr;
  guarded(err, errlen, [&](std::string &error) {
    if (!path) {
      error = "library_path is NULL";
      return false;
    }
    auto model = nlrt::Model::load(path, &error);
    if (!model)
      return false;
    result = new nlrt_model{std::move(model), 0};
    int64_t n = 1;
    const auto &outputs = result->model->manifest().outputs;
    for (int64_t d : outputs.empty() ? std::vector<int64_t>{0} : outputs[0])
      n *= d;
    result->outputSize = n;
    return true;
  });
  return result;
}

void nlrt_model_destroy(nlrt_model_t *model) { delete model; }

int64_t nlrt_model_dim(const nlrt_model_t *model) {
  return model ? model->model->manifest().dim : -1;
}

int64_t nlrt_model_output_size(const nlrt_model_t *model) {
  return model ? model->outputSize : -1;
}

int64_t nlrt_model_num_params(const nlrt_model_t *model) {
  return model ? static_cast<int64_t>(model->model->manifest().params.size())
               : -1;
}

int64_t nlrt_model_num_state(const nlrt_model_t *model) {
  return model ? static_cast<int64_t>(model->model->manifest().state.size())
               : -1;
}

int64_t nlrt_model_param_numel(const nlrt_model_t *model, size_t i) {
  if (!model || i >= model->model->manifest().params.size())
    return -1;
  return model->model->manifest().params[i].numel;
}

int64_t nlrt_model_state_numel(const nlrt_model_t *model, size_t i) {
  if (!model || i >= model->model->manifest().state.size())
    return -1;
  return model->model->manifest().state[i].numel;
}

const char *nlrt_model_manifest(const nlrt_model_t *model) {
  return model ? model->model->manifest().json.c_str() : nullptr;
}

nlrt_session_t *nlrt_session_create(const nlrt_model_t *model, int64_t batch,
                                    uint64_t seed, char *err, size_t errlen) {
  return nlrt_session_create_on(model, batch, seed, "cpu", err, errlen);
}

nlrt_session_t *nlrt_session_create_on(const nlrt_model_t *model, int64_t batch,
                                       uint64_t seed, const char *device,
                                       char *err, size_t errlen) {
  nlrt_session_t *result = nullptr;
  guarded(err, errlen, [&](std::string &error) {
    if (!model) {
      error = "model is NULL";
      return false;
    }
    nlrt::Device where = nlrt::Device::CPU;
    if (device && !nlrt::parseDevice(device, where)) {
      error = std::string("unknown device '") + device +
              "' (expected cpu, cuda or cuda:0)";
      return false;
    }
    auto session =
        nlrt::Session::create(*model->model, batch, seed, &error, where);
    if (!session)
      return false;
    result = new nlrt_session{model, std::move(session)};
    return true;
  });
  return result;
}

void nlrt_session_destroy(nlrt_session_t *session) { delete session; }

int nlrt_session_load_params(nlrt_session_t *s, const char *path, char *err,
                             size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || !path) {
      error = "session or path is NULL";
      return false;
    }
    return s->session->loadParams(path, &error);
  });
}

namespace {
/// The output buffers of a call: `y` for output 0 when given, scratch for
/// the others (outputs the caller does not want still need somewhere to
/// go).
bool callOutputs(const nlrt_session_t *s, int64_t tokens, float *y,
                 std::vector<std::vector<float>> &scratch,
                 std::vector<float *> &outputs, std::string &error) {
  const nlrt::Manifest &m = s->owner->model->manifest();
  scratch.reserve(m.outputs.size());
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    if (i == 0 && y) {
      outputs.push_back(y);
      continue;
    }
    std::vector<int64_t> all = {s->session->batch(), tokens};
    all.insert(all.end(), m.outputs[i].begin(), m.outputs[i].end());
    std::optional<int64_t> n = nlrt::checkedNumel(all, sizeof(float));
    if (!n) {
      error =
          "the outputs of " + std::to_string(tokens) + " tokens are too large";
      return false;
    }
    scratch.emplace_back(static_cast<size_t>(*n));
    outputs.push_back(scratch.back().data());
  }
  return true;
}
} // namespace

int nlrt_session_run(nlrt_session_t *s, const float *x, int64_t tokens,
                     float *y, int threads, char *err, size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || (!x && tokens > 0) || tokens < 0) {
      error = "session or x is NULL, or tokens < 0";
      return false;
    }
    std::vector<std::vector<float>> scratch;
    std::vector<float *> outputs;
    return callOutputs(s, tokens, y, scratch, outputs, error) &&
           s->session->run(x, tokens, outputs, threads, &error);
  });
}

int nlrt_session_backward(nlrt_session_t *s, const float *x, int64_t tokens,
                          const float *const *dys, float *y,
                          float *const *dparams, float *const *dstate,
                          float *dx, int threads, char *err, size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || (!x && tokens > 0) || tokens < 0) {
      error = "session or x is NULL, or tokens < 0";
      return false;
    }
    const nlrt::Manifest &m = s->owner->model->manifest();
    std::vector<std::vector<float>> scratch;
    std::vector<float *> outputs;
    if (!callOutputs(s, tokens, y, scratch, outputs, error))
      return false;
    std::vector<const float *> cotangents(m.outputs.size(), nullptr);
    if (dys)
      for (size_t o = 0; o < m.outputs.size(); ++o)
        cotangents[o] = dys[o];
    nlrt::Gradients grads;
    nlrt::BackwardOptions options;
    options.inputGrad = dx != nullptr;
    if (!s->session->backward(x, tokens, cotangents, outputs, grads, threads,
                              &error, options))
      return false;
    for (size_t i = 0; dparams && i < grads.params.size(); ++i)
      if (dparams[i])
        std::copy(grads.params[i].begin(), grads.params[i].end(), dparams[i]);
    for (size_t j = 0; dstate && j < grads.state.size(); ++j)
      if (dstate[j])
        std::copy(grads.state[j].begin(), grads.state[j].end(), dstate[j]);
    if (dx)
      std::copy(grads.input.begin(), grads.input.end(), dx);
    return true;
  });
}

int nlrt_session_save_state(const nlrt_session_t *s, const char *path,
                            char *err, size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || !path) {
      error = "session or path is NULL";
      return false;
    }
    return s->session->saveState(path, &error);
  });
}

int nlrt_session_load_state(nlrt_session_t *s, const char *path, char *err,
                            size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || !path) {
      error = "session or path is NULL";
      return false;
    }
    return s->session->loadState(path, &error);
  });
}

int nlrt_session_reset_level(nlrt_session_t *s, const char *level, char *err,
                             size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || !level) {
      error = "session or level is NULL";
      return false;
    }
    return s->session->resetLevel(level, &error);
  });
}

int nlrt_session_freeze_level(nlrt_session_t *s, const char *level, int frozen,
                              char *err, size_t errlen) {
  return guarded(err, errlen, [&](std::string &error) {
    if (!s || !level) {
      error = "session or level is NULL";
      return false;
    }
    return s->session->freezeLevel(level, frozen != 0, &error);
  });
}

int64_t nlrt_session_updates(const nlrt_session_t *s, size_t level) {
  if (!s || level >= s->owner->model->manifest().levels.size())
    return -1;
  return s->session->clock().updates(level);
}

} // extern "C"
