# The libFuzzer targets for the runtime's readers (readSafetensors, readNpy,
# parseManifest) and nl-fuzz-seeds, the writer of their seed files. Plain
# CMake that links nlrt only, no LLVM/MLIR: included by this folder's
# CMakeLists.txt (the main tree, -DNLC_ENABLE_FUZZER=ON) and by
# runtime/CMakeLists.txt (a project of its own that builds in seconds, which
# scripts/fuzz.sh uses). Needs clang. nlrt itself gets coverage and
# sanitizers from the flags of the tree (scripts/fuzz.sh passes
# -fsanitize=fuzzer-no-link,address,undefined); the harnesses add
# -fsanitize=fuzzer,address,undefined with UBSan reports fatal.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "the nl-fuzz targets need clang (libFuzzer), not "
                      "${CMAKE_CXX_COMPILER_ID}")
endif()
set(NLFUZZ_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(NLFUZZ_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)

function(nlc_add_runtime_fuzzer name source)
  add_executable(${name} ${NLFUZZ_SOURCE_DIR}/${source})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${NLFUZZ_SANITIZE} -g
                         -Wall -Wextra)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer ${NLFUZZ_SANITIZE})
  target_link_libraries(${name} PRIVATE nlrt)
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endfunction()

nlc_add_runtime_fuzzer(nl-safetensors-fuzzer SafetensorsFuzzer.cpp)
nlc_add_runtime_fuzzer(nl-npy-fuzzer NpyFuzzer.cpp)
nlc_add_runtime_fuzzer(nl-manifest-fuzzer ManifestFuzzer.cpp)

add_executable(nl-fuzz-seeds ${NLFUZZ_SOURCE_DIR}/SeedCorpus.cpp)
target_compile_options(nl-fuzz-seeds PRIVATE ${NLFUZZ_SANITIZE} -g -Wall -Wextra)
target_link_options(nl-fuzz-seeds PRIVATE ${NLFUZZ_SANITIZE})
target_link_libraries(nl-fuzz-seeds PRIVATE nlrt)
set_target_properties(nl-fuzz-seeds PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

add_custom_target(nl-runtime-fuzzers DEPENDS nl-safetensors-fuzzer
  nl-npy-fuzzer nl-manifest-fuzzer nl-fuzz-seeds)
