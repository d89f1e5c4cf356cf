//===- NLInterpreter.cpp - A float64 interpreter of nl compute ops --------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every op is written from its definition in NLOps.td, in double precision.
// Each result's shape is computed here and checked against the op's result
// type, so a shape the verifier lets through but the definition disagrees
// with is reported instead of silently read.
//
//===----------------------------------------------------------------------===//

#include "NLInterpreter.h"

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::nl;

namespace nltest {

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::zeros(std::vector<int64_t> shape) {
  Tensor t;
  t.data.assign(numElements(shape), 0.0);
  t.shape = std::move(shape);
  return t;
}

namespace {

//===----------------------------------------------------------------------===//
// Shapes and indices
//===----------------------------------------------------------------------===//

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The multi-index of flat index `flat` in `shape` (row-major).
std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

/// The flat index in `shape` of the element that multi-index `idx` of a
/// larger (broadcast) shape reads: trailing dimensions aligned, size-1 and
/// missing dimensions stretched (NumPy).
int64_t broadcastIndex(const std::vector<int64_t> &idx,
                       const std::vector<int64_t> &shape) {
  size_t offset = idx.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : idx[offset + d]);
  return flat;
}

/// NumPy's broadcast shape of `a` and `b`; false when they do not broadcast.
bool broadcastShapes(const std::vector<int64_t> &a,
                     const std::vector<int64_t> &b, std::vector<int64_t> &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      return false;
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Activations and their derivatives
//===----------------------------------------------------------------------===//

constexpr double kSqrt2OverPi = 0.7978845608028654; // sqrt(2 / pi)
constexpr double kInvSqrt2 = 0.7071067811865476;    // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1 / sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double activation(Activation kind, double x) {
  switch (kind) {
  case Activation::identity:
    return x;
  case Activation::relu:
    return x > 0.0 ? x : 0.0;
  case Activation::silu:
    return x * sigmoid(x);
  case Activation::gelu:
    return 0.5 * x * (1.0 + std::erf(x * kInvSqrt2));
  case Activation::gelu_tanh:
    return 0.5 * x *
           (1.0 + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
  case Activation::sigmoid:
    return sigmoid(x);
  case Activation::tanh:
    return std::tanh(x);
  case Activation::softplus: // log(1 + e^x), computed without overflow
    return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
  case Activation::exp:
    return std::exp(x);
  }
  return NAN;
}

/// d act(x) / dx, derived by hand from `activation`.
double activationDerivative(Activation kind, double x) {
  switch (kind) {
  case Activation::identity:
    return 1.0;
  case Activation::relu: // undefined at 0; the tests keep x away from it
    return x > 0.0 ? 1.0 : 0.0;
  case Activation::silu: {
    // (x s)' = s + x s (1 - s)
    double s = sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
  }
  case Activation::gelu:
    // (x Phi(x))' = Phi(x) + x phi(x)
    return 0.5 * (1.0 + std::erf(x * kInvSqrt2)) +
           x * kInvSqrt2Pi * std::exp(-0.5 * x * x);
  case Activation::gelu_tanh: {
    // 1/2 (1 + tanh u) + 1/2 x (1 - tanh^2 u) u',
    // u = sqrt(2/pi) (x + 0.044715 x^3), u' = sqrt(2/pi) (1 + 3 0.044715 x^2)
    double t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
    double du = kSqrt2OverPi * (1.0 + 3.0 * kGeluCubic * x * x);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
  }
  case Activation::sigmoid: {
    double s = sigmoid(x);
    return s * (1.0 - s);
  }
  case Activation::tanh: {
    double t = std::tanh(x);
    return 1.0 - t * t;
  }
  case Activation::softplus: // log(1 + e^x)' = e^x / (1 + e^x)
    return sigmoid(x);
  case Activation::exp:
    return std::exp(x);
  }
  return NAN;
}

//===----------------------------------------------------------------------===//
// Normalizations (over the last dimension) and their input VJPs
//===----------------------------------------------------------------------===//

/// The mean and biased variance of one row.
std::pair<double, double> meanVar(const double *x, int64_t n) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i)
    mean += x[i];
  mean /= n;
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i)
    var += (x[i] - mean) * (x[i] - mean);
  return {mean, var / n};
}

/// One row: y = norm(x) (* scale) (+ shift); scale, shift may be null.
void normRow(NormKind kind, const double *x, int64_t n, const double *scale,
             const double *shift, double eps, double *y) {
  switch (kind) {
  case NormKind::l2: {
    // x / max(||x||, eps)
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i)
      ss += x[i] * x[i];
    double d = std::max(std::sqrt(ss), eps);
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] / d;
    return;
  }
  case NormKind::layer: {
    // (x - mean) / sqrt(var + eps) * scale + shift, var the biased variance
    auto [mean, var] = meanVar(x, n);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < n; ++i)
      y[i] = (x[i] - mean) * inv * (scale ? scale[i] : 1.0) +
             (shift ? shift[i] : 0.0);
    return;
  }
  case NormKind::rms: {
    // x / sqrt(mean(x^2) + eps) * scale
    double ms = 0.0;
    for (int64_t i = 0; i < n; ++i)
      ms += x[i] * x[i];
    ms /= n;
    double inv = 1.0 / std::sqrt(ms + eps);
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] * inv * (scale ? scale[i] : 1.0);
    return;
  }
  case NormKind::none:
    break;
  }
  for (int64_t i = 0; i < n; ++i)
    y[i] = NAN;
}

/// One row of the input VJP: dx = J(x)^T (dy * scale), J the Jacobian of
/// the unscaled, unshifted norm. Derivations:
///  l2, ||x|| = r > eps: y = x / r, dy_i/dx_j = (d_ij - u_i u_j) / r with
///      u = x / r, so dx = (g - u <u, g>) / r; r <= eps: dx = g / eps.
///  layer: xh = (x - m) s, s = (var + eps)^-1/2, d var/dx_j = 2 (x_j - m)/n,
///      dxh_i/dx_j = s (d_ij - 1/n - xh_i xh_j / n), so
///      dx = s (g - mean(g) - xh mean(g xh)).
///  rms: y = x s, s = (mean(x^2) + eps)^-1/2, ds/dx_j = -s^3 x_j / n, so
///      dx = s g - s^3 x <g, x> / n.
void normGradRow(NormKind kind, const double *x, const double *dy, int64_t n,
                 const double *scale, double eps, double *dx) {
  std::vector<double> g(n);
  for (int64_t i = 0; i < n; ++i)
    g[i] = dy[i] * (scale ? scale[i] : 1.0);
  switch (kind) {
  case NormKind::l2: {
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i)
      ss += x[i] * x[i];
    double r = std::sqrt(ss);
    if (r <= eps) {
      for (int64_t i = 0; i < n; ++i)
        dx[i] = g[i] / eps;
      return;
    }
    double ug = 0.0;
    for (int64_t i = 0; i < n; ++i)
      ug += x[i] / r * g[i];
    for (int64_t i = 0; i < n; ++i)
      dx[i] = (g[i] - x[i] / r * ug) / r;
    return;
  }
  case NormKind::layer: {
    auto [mean, var] = meanVar(x, n);
    double s = 1.0 / std::sqrt(var + eps);
    double meanG = 0.0, meanGXh = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      meanG += g[i];
      meanGXh += g[i] * (x[i] - mean) * s;
    }
    meanG /= n;
    meanGXh /= n;
    for (int64_t i = 0; i < n; ++i)
      dx[i] = s * (g[i] - meanG - (x[i] - mean) * s * meanGXh);
    return;
  }
  case NormKind::rms: {
    double ms = 0.0, gx = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      ms += x[i] * x[i];
      gx += g[i] * x[i];
    }
    ms /= n;
    double s = 1.0 / std::sqrt(ms + eps);
    for (int64_t i = 0; i < n; ++i)
      dx[i] = s * g[i] - s * s * s * x[i] * gx / n;
    return;
  }
  case NormKind::none:
    break;
  }
  for (int64_t i = 0; i < n; ++i)
    dx[i] = NAN;
}

std::vector<int64_t> shapeOfType(Type type) {
  auto ranked = cast<RankedTensorType>(type);
  return std::vector<int64_t>(ranked.getShape().begin(),
                              ranked.getShape().end());
}

} // namespace

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

bool Interpreter::fail(Operation &op, const std::string &why) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op.getName() << "' at " << op.getLoc() << ": " << why;
  message = os.str();
  return false;
}

bool Interpreter::evalOp(Operation &op, Env &env) {
  // Operands, all of which must have been evaluated.
  std::vector<const Tensor *> in;
  for (Value v : op.getOperands()) {
    auto it = env.find(v);
    if (it == env.end())
      return fail(op,
                  "operand #" + std::to_string(in.size()) + " has no value");
    in.push_back(&it->second);
  }

  Tensor out;
  std::string why;
  bool handled =
      llvm::TypeSwitch<Operation *, bool>(&op)
          .Case([&](arith::ConstantOp c) {
            auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
            if (!dense || !dense.getElementType().isF32()) {
              why = "only f32 dense constants are interpreted";
              return true;
            }
            out.shape = shapeOfType(c.getType());
            for (const APFloat &v : dense.getValues<APFloat>())
              out.data.push_back(v.convertToDouble());
            return true;
          })
          .Case([&](LinearOp lin) {
            // y[r, o] = sum_i W[r?, o, i] x[r, i] (+ b[r?, o]); transposed,
            // W[r?, i, o]. r runs over the input's leading dimensions.
            const Tensor &x = *in[0], &w = *in[1];
            const Tensor *bias = lin.getBias() ? in[2] : nullptr;
            bool t = lin.getTransposeWeight();
            bool batched = w.shape.size() > 2;
            int64_t rows0 = w.shape[w.shape.size() - 2], cols = w.shape.back();
            int64_t nOut = t ? cols : rows0, nIn = t ? rows0 : cols;
            if (x.shape.empty() || x.shape.back() != nIn) {
              why = "input " + formatShape(x.shape) + " vs weight " +
                    formatShape(w.shape);
              return true;
            }
            int64_t rows = x.numel() / nIn;
            if (batched && numElements(w.shape) != rows * nIn * nOut) {
              why = "batched weight " + formatShape(w.shape) +
                    " does not match input " + formatShape(x.shape);
              return true;
            }
            out.shape = x.shape;
            out.shape.back() = nOut;
            out.data.assign(rows * nOut, 0.0);
            for (int64_t r = 0; r < rows; ++r) {
              const double *wr = w.data.data() + (batched ? r * nIn * nOut : 0);
              for (int64_t o = 0; o < nOut; ++o) {
                double acc = 0.0;
                for (int64_t i = 0; i < nIn; ++i)
                  acc += (t ? wr[i * nOut + o] : wr[o * nIn + i]) *
                         x.data[r * nIn + i];
                if (bias)
                  acc +=
                      bias->data[(bias->shape.size() > 1 ? r * nOut : 0) + o];
                out.data[r * nOut + o] = acc;
              }
            }
            return true;
          })
          .Case<AddOp, SubOp, MulOp, DivOp>([&](Operation *bin) {
            const Tensor &l = *in[0], &r = *in[1];
            if (!broadcastShapes(l.shape, r.shape, out.shape)) {
              why = "shapes " + formatShape(l.shape) + " and " +
                    formatShape(r.shape) + " do not broadcast";
              return true;
            }
            out.data.resize(numElements(out.shape));
            for (int64_t k = 0; k < out.numel(); ++k) {
              std::vector<int64_t> idx = unravel(k, out.shape);
              double a = l.data[broadcastIndex(idx, l.shape)];
              double b = r.data[broadcastIndex(idx, r.shape)];
              out.data[k] = isa<AddOp>(bin)   ? a + b
                            : isa<SubOp>(bin) ? a - b
                            : isa<MulOp>(bin) ? a * b
                                              : a / b;
            }
            return true;
          })
          .Case([&](ActOp act) {
            out = *in[0];
            for (double &v : out.data)
              v = activation(act.getKind(), v);
            return true;
          })
          .Case([&](ActGradOp g) {
            const Tensor &x = *in[0], &dy = *in[1];
            if (x.shape != dy.shape) {
              why = "input and gradient shapes differ";
              return true;
            }
            out = dy;
            for (int64_t k = 0; k < out.numel(); ++k)
              out.data[k] *= activationDerivative(g.getKind(), x.data[k]);
            return true;
          })
          .Case([&](NormOp norm) {
            const Tensor &x = *in[0];
            const double *scale =
                norm.getScale() ? env.find(norm.getScale())->second.data.data()
                                : nullptr;
            const double *shift =
                norm.getShift() ? env.find(norm.getShift())->second.data.data()
                                : nullptr;
            int64_t n = x.shape.back();
            out = x;
            for (int64_t r = 0; r < x.numel() / n; ++r)
              normRow(norm.getKind(), x.data.data() + r * n, n, scale, shift,
                      norm.getEps().convertToDouble(), out.data.data() + r * n);
            return true;
          })
          .Case([&](NormGradOp ng) {
            const Tensor &x = *in[0], &dy = *in[1];
            const double *scale =
                ng.getScale() ? env.find(ng.getScale())->second.data.data()
                              : nullptr;
            if (x.shape != dy.shape) {
              why = "input and gradient shapes differ";
              return true;
            }
            int64_t n = x.shape.back();
            out = x;
            for (int64_t r = 0; r < x.numel() / n; ++r)
              normGradRow(ng.getKind(), x.data.data() + r * n,
                          dy.data.data() + r * n, n, scale,
                          ng.getEps().convertToDouble(),
                          out.data.data() + r * n);
            return true;
          })
          .Case([&](SumOp sum) {
            // Every input element goes to the result element it broadcasts
            // from.
            const Tensor &x = *in[0];
            out = Tensor::zeros(shapeOfType(sum.getType()));
            std::vector<int64_t> joined;
            if (!broadcastShapes(x.shape, out.shape, joined) ||
                joined != x.shape) {
              why = "result does not broadcast to the input";
              return true;
            }
            for (int64_t k = 0; k < x.numel(); ++k)
              out.data[broadcastIndex(unravel(k, x.shape), out.shape)] +=
                  x.data[k];
            return true;
          })
          .Case([&](OuterOp) {
            // r[..., i, j] = a[..., i] c[..., j]
            const Tensor &a = *in[0], &c = *in[1];
            int64_t ni = a.shape.back(), nj = c.shape.back();
            int64_t rows = a.numel() / ni;
            if (c.numel() / nj != rows) {
              why = "leading dimensions differ";
              return true;
            }
            out.shape = a.shape;
            out.shape.push_back(nj);
            out.data.resize(rows * ni * nj);
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t i = 0; i < ni; ++i)
                for (int64_t j = 0; j < nj; ++j)
                  out.data[(r * ni + i) * nj + j] =
                      a.data[r * ni + i] * c.data[r * nj + j];
            return true;
          })
          .Case([&](StopGradOp) {
            out = *in[0];
            return true;
          })
          .Case([&](MatmulOp m) {
            // r[b, i, j] = sum_k A'[b, i, k] B'[b, k, j], A' = A or A^T.
            const Tensor &a = *in[0], &c = *in[1];
            bool ta = m.getTransposeLhs(), tb = m.getTransposeRhs();
            size_t n = a.shape.size();
            int64_t ar = a.shape[n - 2], ac = a.shape[n - 1];
            int64_t br = c.shape[n - 2], bc = c.shape[n - 1];
            int64_t rows = ta ? ac : ar, depth = ta ? ar : ac;
            int64_t cols = tb ? br : bc;
            if ((tb ? bc : br) != depth) {
              why = "inner dimensions differ";
              return true;
            }
            int64_t batch = a.numel() / (ar * ac);
            out.shape = a.shape;
            out.shape[n - 2] = rows;
            out.shape[n - 1] = cols;
            out.data.assign(batch * rows * cols, 0.0);
            for (int64_t bi = 0; bi < batch; ++bi)
              for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) {
                  double acc = 0.0;
                  for (int64_t k = 0; k < depth; ++k)
                    acc +=
                        a.data[bi * ar * ac + (ta ? k * ac + i : i * ac + k)] *
                        c.data[bi * br * bc + (tb ? j * bc + k : k * bc + j)];
                  out.data[(bi * rows + i) * cols + j] = acc;
                }
            return true;
          })
          .Case([&](TransposeOp t) {
            const Tensor &x = *in[0];
            ArrayRef<int64_t> perm = t.getPermutation();
            out.shape.clear();
            for (int64_t p : perm)
              out.shape.push_back(x.shape[p]);
            out.data.resize(x.numel());
            for (int64_t k = 0; k < out.numel(); ++k) {
              std::vector<int64_t> idx = unravel(k, out.shape),
                                   from(idx.size());
              for (size_t d = 0; d < perm.size(); ++d)
                from[perm[d]] = idx[d];
              int64_t flat = 0;
              for (size_t d = 0; d < from.size(); ++d)
                flat = flat * x.shape[d] + from[d];
              out.data[k] = x.data[flat];
            }
            return true;
          })
          .Case<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
              [&](Operation *r) {
                out = *in[0];
                out.shape = shapeOfType(r->getResult(0).getType());
                return true;
              })
          .Case([&](tensor::ExtractSliceOp x) {
            // Static offsets, unit strides; dropped unit dimensions.
            const Tensor &src = *in[0];
            ArrayRef<int64_t> offsets = x.getStaticOffsets();
            ArrayRef<int64_t> sizes = x.getStaticSizes();
            out.shape = shapeOfType(x.getType());
            out.data.resize(numElements(out.shape));
            for (int64_t k = 0; k < out.numel(); ++k) {
              std::vector<int64_t> idx =
                  unravel(k, std::vector<int64_t>(sizes.begin(), sizes.end()));
              int64_t flat = 0;
              for (size_t d = 0; d < idx.size(); ++d)
                flat = flat * src.shape[d] + idx[d] + offsets[d];
              out.data[k] = src.data[flat];
            }
            return true;
          })
          .Case([&](tensor::InsertSliceOp ins) {
            const Tensor &src = *in[0], &dst = *in[1];
            ArrayRef<int64_t> offsets = ins.getStaticOffsets();
            ArrayRef<int64_t> sizes = ins.getStaticSizes();
            out = dst;
            std::vector<int64_t> box(sizes.begin(), sizes.end());
            for (int64_t k = 0; k < numElements(box); ++k) {
              std::vector<int64_t> idx = unravel(k, box);
              int64_t flat = 0;
              for (size_t d = 0; d < idx.size(); ++d)
                flat = flat * dst.shape[d] + idx[d] + offsets[d];
              out.data[flat] = src.data[k];
            }
            return true;
          })
          .Case<arith::NegFOp, math::SqrtOp, math::AbsFOp, arith::UIToFPOp>(
              [&](Operation *u) {
                out = *in[0];
                for (double &v : out.data)
                  v = isa<arith::NegFOp>(u)  ? -v
                      : isa<math::SqrtOp>(u) ? std::sqrt(v)
                      : isa<math::AbsFOp>(u) ? std::fabs(v)
                                             : v;
                return true;
              })
          .Case<math::PowFOp, arith::CmpFOp>([&](Operation *bin) {
            const Tensor &l = *in[0], &r = *in[1];
            if (l.shape != r.shape) {
              why = "operand shapes differ";
              return true;
            }
            out = l;
            auto cmp = dyn_cast<arith::CmpFOp>(bin);
            for (int64_t k = 0; k < out.numel(); ++k) {
              double a = l.data[k], b = r.data[k];
              if (!cmp) {
                out.data[k] = std::pow(a, b);
                continue;
              }
              switch (cmp.getPredicate()) {
              case arith::CmpFPredicate::OGT:
                out.data[k] = a > b;
                break;
              case arith::CmpFPredicate::OLT:
                out.data[k] = a < b;
                break;
              case arith::CmpFPredicate::OLE:
                out.data[k] = a <= b;
                break;
              case arith::CmpFPredicate::OGE:
                out.data[k] = a >= b;
                break;
              default:
                why = "comparison predicate not interpreted";
              }
            }
            return true;
          })
          .Case([&](arith::SelectOp sel) {
            const Tensor &c = *in[0], &t = *in[1], &f = *in[2];
            if (c.shape != t.shape || t.shape != f.shape) {
              why = "select of tensors of different shapes";
              return true;
            }
            out = t;
            for (int64_t k = 0; k < out.numel(); ++k)
              out.data[k] = c.data[k] != 0.0 ? t.data[k] : f.data[k];
            return true;
          })
          .Default([](Operation *) { return false; });

  if (!handled)
    return fail(op, "is not interpreted");
  if (!why.empty())
    return fail(op, why);
  if (op.getNumResults() != 1)
    return fail(op, "expected one result");
  std::vector<int64_t> expected = shapeOfType(op.getResult(0).getType());
  if (out.shape != expected)
    return fail(op, "computed shape " + formatShape(out.shape) +
                        " but the result type says " + formatShape(expected));
  env[op.getResult(0)] = std::move(out);
  return true;
}

bool Interpreter::runBlock(Block &block, Env &env,
                           std::vector<Tensor> &results) {
  for (Operation &op : block.without_terminator())
    if (!evalOp(op, env))
      return false;
  Operation *term = block.getTerminator();
  if (!isa<func::ReturnOp, YieldOp>(term))
    return fail(*term, "is not a known terminator");
  results.clear();
  for (Value v : term->getOperands()) {
    auto it = env.find(v);
    if (it == env.end())
      return fail(*term, "operand has no value");
    results.push_back(it->second);
  }
  return true;
}

bool Interpreter::runFunc(func::FuncOp func, const std::vector<Tensor> &args,
                          std::vector<Tensor> &results) {
  Block &body = func.getBody().front();
  if (args.size() != body.getNumArguments())
    return fail(*func, "wrong number of arguments");
  Env env;
  for (auto [arg, value] : llvm::zip(body.getArguments(), args)) {
    if (shapeOfType(arg.getType()) != value.shape)
      return fail(*func, "argument shape mismatch");
    env[arg] = value;
  }
  return runBlock(body, env, results);
}

} // namespace nltest
