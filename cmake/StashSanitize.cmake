# Compiler flags of the sanitizer (STASH_SANITIZE) and fuzzing (STASH_BUILD_FUZZ)
# builds. They apply to every target of the tree, so the libraries a test or a
# fuzz target links are instrumented as well.
if(STASH_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "STASH_BUILD_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  set(STASH_SANITIZE ON)
endif()

if(STASH_SANITIZE)
  # -fno-sanitize-recover: a UBSan finding aborts like an ASan one, so a test
  # or a fuzz run cannot pass with a report in its log. Line tables only: the
  # reports name file:line without the size and link time of full -g. -O1
  # (last -O wins) compiles in about half the time of -O3 and runs ASan code
  # nearly as fast; -UNDEBUG keeps assert() on, so a broken invariant (e.g.
  # the value of a failed Result) stops the test that reaches it.
  set(STASH_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                            -fno-omit-frame-pointer -O1 -UNDEBUG)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND STASH_SANITIZER_FLAGS -gline-tables-only)
  else()
    list(APPEND STASH_SANITIZER_FLAGS -g1)
  endif()
  add_compile_options(${STASH_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()

if(STASH_BUILD_FUZZ)
  # Coverage feedback for libFuzzer in every object; only the fuzz targets
  # link libFuzzer's main (-fsanitize=fuzzer, see fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
