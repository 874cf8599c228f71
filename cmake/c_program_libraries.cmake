# reactord_loaded_by_c_programs(<target>...): these targets end up in a shared library that
# C programs link (libreactor_event, libreactor_event_inspect). Under clang with UBSan, a C
# program linked with -fsanitize=undefined gets UBSan's C runtime only; the handlers of the two
# C++-only checks, vptr and function, live in the C++ runtime (it needs libstdc++'s typeinfo),
# so such a library built with them leaves the program undefined __ubsan_vptr_type_cache and
# __ubsan_handle_function_type_mismatch_v1_abort. Those targets skip these two checks; every
# other check stays, and these two stay everywhere else. GCC's shared libubsan carries both
# halves and has no function check: nothing to do there.
function(reactord_loaded_by_c_programs)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_FLAGS MATCHES "-fsanitize=[^ ]*undefined")
    foreach(target ${ARGN})
      target_compile_options(${target} PRIVATE -fno-sanitize=vptr,function)
    endforeach()
  endif()
endfunction()
