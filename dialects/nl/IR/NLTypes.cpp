//===- NLTypes.cpp - Types of the nl dialect ------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLTypes.h"
#include "nl/IR/NLDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLTypeInterfaces.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "nl/IR/NLTypes.cpp.inc"

void NLDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "nl/IR/NLTypes.cpp.inc"
      >();
}

std::string mlir::nl::formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

RankedTensorType mlir::nl::getF32TensorType(ArrayRef<int64_t> shape,
                                            MLIRContext *ctx) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

RankedTensorType mlir::nl::getStorageTensorType(Type stateType) {
  if (auto tensor = dyn_cast<RankedTensorType>(stateType))
    return tensor;
  if (auto matrix = dyn_cast<MatrixType>(stateType))
    return RankedTensorType::get(matrix.getStorageShape(),
                                 matrix.getElementType());
  return {};
}

namespace {
/// Parses `, name = <integer>` after the keyword `name` was consumed.
ParseResult parseIntField(AsmParser &parser, int64_t &value) {
  return failure(parser.parseEqual() || parser.parseInteger(value));
}
} // namespace

//===----------------------------------------------------------------------===//
// MatrixType
//===----------------------------------------------------------------------===//

SmallVector<int64_t> MatrixType::getStorageShape() const {
  SmallVector<int64_t> shape;
  if (getHeads() != 1)
    shape.push_back(getHeads());
  shape.push_back(getRows());
  shape.push_back(getCols());
  return shape;
}

int64_t MatrixType::getKeyDim() const {
  return getLayout() == Layout::out_in ? getCols() : getRows();
}
int64_t MatrixType::getValueDim() const {
  return getLayout() == Layout::out_in ? getRows() : getCols();
}
bool MatrixType::isParametric() const { return true; }

LogicalResult MatrixType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t rows, int64_t cols, Type elementType,
                                 int64_t heads, Layout layout) {
  if (rows < 1 || cols < 1)
    return emitError() << "matrix memory dimensions must be positive, got "
                       << rows << "x" << cols;
  if (heads < 1)
    return emitError() << "'heads' must be a positive integer, got " << heads;
  if (!elementType.isF32())
    return emitError() << "matrix memory elements are f32 (state stays in "
                          "full precision), got "
                       << elementType;
  return success();
}

Type MatrixType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> dims;
  Type elementType;
  if (parser.parseLess() ||
      parser.parseDimensionList(dims, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return {};
  if (dims.size() != 2) {
    parser.emitError(loc, "a matrix memory has two dimensions (rows x cols), "
                          "got ")
        << dims.size();
    return {};
  }
  int64_t heads = 1;
  Layout layout = Layout::out_in;
  llvm::StringSet<> seen;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (!seen.insert(key).second) {
      parser.emitError(keyLoc, "matrix memory field '")
          << key << "' given twice";
      return {};
    }
    if (key == "heads") {
      if (parseIntField(parser, heads))
        return {};
    } else if (key == "layout") {
      StringRef kind;
      SMLoc kindLoc = parser.getCurrentLocation();
      if (parser.parseEqual() || parser.parseKeyword(&kind))
        return {};
      std::optional<Layout> parsed = symbolizeLayout(kind);
      if (!parsed) {
        parser.emitError(kindLoc, "unknown layout '")
            << kind << "'; expected out_in or in_out";
        return {};
      }
      layout = *parsed;
    } else {
      parser.emitError(keyLoc, "unknown matrix memory field '")
          << key << "'; expected 'heads' or 'layout'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    dims[0], dims[1], elementType, heads, layout);
}

void MatrixType::print(AsmPrinter &printer) const {
  printer << '<' << getRows() << 'x' << getCols() << 'x' << getElementType();
  if (getHeads() != 1)
    printer << ", heads = " << getHeads();
  if (getLayout() != Layout::out_in)
    printer << ", layout = " << stringifyLayout(getLayout());
  printer << '>';
}

//===----------------------------------------------------------------------===//
// MlpType
//===----------------------------------------------------------------------===//

SmallVector<MlpType::Part> MlpType::getParts() const {
  SmallVector<Part> parts;
  ArrayRef<int64_t> widths = getWidths();
  auto shaped = [&](std::initializer_list<int64_t> dims) {
    SmallVector<int64_t> shape;
    if (getHeads() != 1)
      shape.push_back(getHeads());
    shape.append(dims.begin(), dims.end());
    return shape;
  };
  for (unsigned i = 0; i < getNumLayers(); ++i) {
    parts.push_back({"w" + std::to_string(i),
                     shaped({widths[i + 1], widths[i]}), false});
    if (getBias())
      parts.push_back({"b" + std::to_string(i), shaped({widths[i + 1]}), true});
  }
  return parts;
}

int64_t MlpType::getKeyDim() const { return getWidths().front(); }
int64_t MlpType::getValueDim() const { return getWidths().back(); }
bool MlpType::isParametric() const { return true; }

LogicalResult MlpType::verify(function_ref<InFlightDiagnostic()> emitError,
                              ArrayRef<int64_t> widths, Activation activation,
                              bool bias, bool residual, NormKind norm,
                              int64_t heads) {
  if (widths.size() < 2)
    return emitError() << "an MLP memory needs at least two widths (input "
                          "and output), got "
                       << widths.size();
  for (int64_t w : widths)
    if (w < 1)
      return emitError() << "MLP memory widths must be positive, got " << w;
  if (residual && widths.front() != widths.back())
    return emitError() << "a residual MLP memory needs equal input and output "
                          "widths, got "
                       << widths.front() << " and " << widths.back();
  if (heads < 1)
    return emitError() << "'heads' must be a positive integer, got " << heads;
  return success();
}

Type MlpType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> widths;
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        int64_t w;
        if (parser.parseInteger(w))
          return failure();
        widths.push_back(w);
        return success();
      }))
    return {};
  Activation activation = Activation::identity;
  NormKind norm = NormKind::none;
  bool bias = false, residual = false;
  int64_t heads = 1;
  llvm::StringSet<> seen;
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key))
      return {};
    // All activations are one field.
    StringRef field = symbolizeActivation(key) ? "activation" : key;
    if (!seen.insert(field).second) {
      parser.emitError(keyLoc, "MLP memory field '")
          << field << "' given twice";
      return {};
    }
    if (key == "bias") {
      bias = true;
    } else if (key == "residual") {
      residual = true;
    } else if (key == "heads") {
      if (parseIntField(parser, heads))
        return {};
    } else if (key == "norm") {
      StringRef kind;
      SMLoc kindLoc = parser.getCurrentLocation();
      if (parser.parseEqual() || parser.parseKeyword(&kind))
        return {};
      std::optional<NormKind> parsed = symbolizeNormKind(kind);
      if (!parsed) {
        parser.emitError(kindLoc, "unknown norm '")
            << kind << "'; expected none, l2, layer or rms";
        return {};
      }
      norm = *parsed;
    } else if (std::optional<Activation> act = symbolizeActivation(key)) {
      activation = *act;
    } else {
      parser.emitError(keyLoc, "unknown MLP memory field '")
          << key
          << "'; expected an activation, 'bias', 'residual', 'norm' or "
             "'heads'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); }, parser.getContext(),
                    widths, activation, bias, residual, norm, heads);
}

void MlpType::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getWidths(), printer);
  printer << ']';
  if (getActivation() != Activation::identity)
    printer << ", " << stringifyActivation(getActivation());
  if (getBias())
    printer << ", bias";
  if (getResidual())
    printer << ", residual";
  if (getNorm() != NormKind::none)
    printer << ", norm = " << stringifyNormKind(getNorm());
  if (getHeads() != 1)
    printer << ", heads = " << getHeads();
  printer << '>';
}

//===----------------------------------------------------------------------===//
// KvCacheType
//===----------------------------------------------------------------------===//

int64_t KvCacheType::getKeyDim() const { return getKey(); }
int64_t KvCacheType::getValueDim() const { return getValue(); }
bool KvCacheType::isParametric() const { return false; }

LogicalResult KvCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t key, int64_t value, int64_t window,
                                  int64_t heads) {
  if (key < 1 || value < 1)
    return emitError() << "KV cache key and value widths must be positive";
  if (window < 0)
    return emitError() << "'window' must be 0 (unbounded) or a positive "
                          "number of tokens, got "
                       << window;
  if (heads < 1)
    return emitError() << "'heads' must be a positive integer, got " << heads;
  return success();
}
