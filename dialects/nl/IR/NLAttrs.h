//===- NLAttrs.h - Attributes and enums of the nl dialect -------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLATTRS_H
#define NL_IR_NLATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include "nl/IR/NLEnums.h.inc"

#include <optional>

namespace mlir::nl {
/// Parses a real number written as a plain literal (`0.02`, `1e-08`, `-2`).
/// Values are kept as IEEE doubles.
FailureOr<llvm::APFloat> parseReal(AsmParser &parser);
/// Like parseReal, for an optional parameter that is present.
FailureOr<std::optional<llvm::APFloat>> parseOptionalReal(AsmParser &parser);
/// Prints the shortest literal that parses back to `value`.
void printReal(AsmPrinter &printer, const llvm::APFloat &value);
/// The spellings of every value of an nl enumeration, in declaration order
/// (the enums are dense from 0; stringifyEnum yields "" past the last).
template <typename EnumT> llvm::SmallVector<llvm::StringRef> enumSpellings() {
  llvm::SmallVector<llvm::StringRef> spellings;
  for (uint32_t i = 0;; ++i) {
    llvm::StringRef s = stringifyEnum(static_cast<EnumT>(i));
    if (s.empty())
      return spellings;
    spellings.push_back(s);
  }
}

/// A static shape written `[4, 16, 16]` (`[]`: a scalar).
FailureOr<llvm::SmallVector<int64_t>> parseShape(AsmParser &parser);
void printShape(AsmPrinter &printer, llvm::ArrayRef<int64_t> shape);
/// A list of static shapes, `[[8], [4, 16]]`.
FailureOr<llvm::SmallVector<DenseI64ArrayAttr>>
parseShapeList(AsmParser &parser);
void printShapeList(AsmPrinter &printer,
                    llvm::ArrayRef<DenseI64ArrayAttr> shapes);
/// A list of booleans, `[true, false]`.
FailureOr<llvm::SmallVector<bool>> parseBoolList(AsmParser &parser);
void printBoolList(AsmPrinter &printer, llvm::ArrayRef<bool> values);
/// A bracketed list of attributes of type AttrT, `[#nl.x<..>, #nl.x<..>]`.
template <typename AttrT>
FailureOr<llvm::SmallVector<AttrT>> parseAttrList(AsmParser &parser) {
  llvm::SmallVector<AttrT> list;
  if (failed(parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                            [&]() -> ParseResult {
                                              AttrT attr;
                                              if (parser.parseAttribute(attr))
                                                return failure();
                                              list.push_back(attr);
                                              return success();
                                            })))
    return failure();
  return list;
}
template <typename AttrT>
void printAttrList(AsmPrinter &printer, llvm::ArrayRef<AttrT> list) {
  printer << '[';
  llvm::interleaveComma(list, printer.getStream(),
                        [&](AttrT attr) { printer.printAttribute(attr); });
  printer << ']';
}

/// Whether an ABI tensor of `kind` is an i32 count (a ring's write position
/// or fill, a deferred ring's tokens) rather than f32 values.
bool isCounterKind(ABIKind kind);

/// Bitwise equality of two optional reals.
inline bool sameReal(const std::optional<llvm::APFloat> &a,
                     const std::optional<llvm::APFloat> &b) {
  return a.has_value() == b.has_value() && (!a || a->bitwiseIsEqual(*b));
}
} // namespace mlir::nl

#include "nl/IR/NLAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "nl/IR/NLAttrs.h.inc"

#endif // NL_IR_NLATTRS_H
