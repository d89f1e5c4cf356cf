//===- NLInterfaces.td - Interfaces of the nl dialect -----*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_INTERFACES_TD
#define NL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def NL_InitializerAttrInterface : AttrInterface<"InitializerAttrInterface"> {
  let cppNamespace = "::mlir::nl";
  let description = [{
    An attribute that says how a parameter or a state tensor gets its initial
    value (zeros, a normal draw with a seed, a named tensor of a params file).
  }];
  let methods = [
    InterfaceMethod<[{
        Checks that this initializer can fill a value of type `type`.
      }], "::llvm::LogicalResult", "verifyFor",
      (ins "::mlir::Type":$type,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>
  ];
}

def NL_MemoryTypeInterface : TypeInterface<"MemoryTypeInterface"> {
  let cppNamespace = "::mlir::nl";
  let description = [{
    A state type that can be read with `nl.read` and written with
    `nl.update`: it maps a key of `getKeyDim()` values to an output of
    `getValueDim()` values, once per head.
  }];
  let methods = [
    InterfaceMethod<"Width of a key (the input of a read).", "int64_t",
                    "getKeyDim">,
    InterfaceMethod<"Width of a value (the output of a read).", "int64_t",
                    "getValueDim">,
    InterfaceMethod<"Number of independent heads.", "int64_t", "getHeads">,
    InterfaceMethod<"Whether the memory is a parametric (learned) map.",
                    "bool", "isParametric">
  ];
}

#endif // NL_INTERFACES_TD
