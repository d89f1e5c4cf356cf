/* A plain-C user of the runtime: loads a compiled model, streams tokens in
 * two calls with the state saved and loaded in between, and compares with
 * one call. Usage: c-api MODEL.so STATE_PATH */
#include "nlrt/nlrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != 0) {                                                         \
      fprintf(stderr, "c-api: %s\n", err);                                     \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(int argc, char **argv) {
  char err[256];
  if (argc != 3)
    return 2;
  nlrt_model_t *model = nlrt_model_load(argv[1], err, sizeof err);
  if (!model) {
    fprintf(stderr, "c-api: %s\n", err);
    return 1;
  }
  int64_t dim = nlrt_model_dim(model), out = nlrt_model_output_size(model);
  enum { T = 40, CUT = 13 };
  float *x = malloc(sizeof(float) * T * dim);
  float *whole = malloc(sizeof(float) * T * out);
  float *pieces = malloc(sizeof(float) * T * out);
  for (int64_t i = 0; i < T * dim; ++i)
    x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;

  nlrt_session_t *a = nlrt_session_create(model, 1, 3, err, sizeof err);
  CHECK(a ? 0 : -1);
  CHECK(nlrt_session_run(a, x, T, whole, 1, err, sizeof err));

  nlrt_session_t *b = nlrt_session_create(model, 1, 3, err, sizeof err);
  CHECK(nlrt_session_run(b, x, CUT, pieces, 1, err, sizeof err));
  CHECK(nlrt_session_save_state(b, argv[2], err, sizeof err));
  nlrt_session_t *c = nlrt_session_create(model, 1, 3, err, sizeof err);
  CHECK(nlrt_session_load_state(c, argv[2], err, sizeof err));
  CHECK(nlrt_session_run(c, x + CUT * dim, T - CUT, pieces + CUT * out, 1, err,
                         sizeof err));
  printf("dim %lld, output %lld, updates of level 0: %lld\n", (long long)dim,
         (long long)out, (long long)nlrt_session_updates(a, 0));
  printf("pieces equal whole: %s\n",
         memcmp(whole, pieces, sizeof(float) * T * out) ? "no" : "yes");

  /* Errors are reported, not fatal. */
  if (nlrt_session_reset_level(c, "no-such-level", err, sizeof err) != 0)
    printf("error: %s\n", err);
  if (!nlrt_model_load("/nonexistent/model.so", err, sizeof err))
    printf("error: %s\n", err);

  nlrt_session_destroy(a);
  nlrt_session_destroy(b);
  nlrt_session_destroy(c);
  nlrt_model_destroy(model);
  free(x);
  free(whole);
  free(pieces);
  return 0;
}
