# Compiles one case of a snippet and checks the compiler's verdict: a CTest that proves a misuse
# does not compile (try_compile is not available in script mode, so the compiler is run directly).
#   cmake -DCOMPILER=<c++> -DSOURCE=<file> -DINCLUDE=<dir> -DCASE=<name> -DEXPECT=pass|fail -P compile_fails.cmake
# EXPECT=fail also requires the error to be reported in SOURCE itself (not in a header), so
# that a broken include or a typo elsewhere cannot pass for the refusal under test; the
# snippet's correct_use case (EXPECT=pass) shows the same includes and flags compile.
foreach(var COMPILER SOURCE INCLUDE CASE EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_fails.cmake: ${var} not given")
  endif()
endforeach()
execute_process(
  COMMAND "${COMPILER}" -std=c++20 -fsyntax-only -I "${INCLUDE}" "-DFLAG_CASE_${CASE}" "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
get_filename_component(name "${SOURCE}" NAME)
string(REPLACE "." "\\." name_re "${name}")
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "case ${CASE} should compile but the compiler refused it (rc ${rc}):\n${err}")
  endif()
  message(STATUS "case ${CASE}: compiles, as it should")
elseif(EXPECT STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "case ${CASE} compiled: the flag types let this misuse through")
  endif()
  if(NOT err MATCHES "${name_re}:[0-9]+:[0-9]+: error")
    message(FATAL_ERROR "case ${CASE} failed, but not with an error in ${name}:\n${err}")
  endif()
  string(REGEX MATCH "${name_re}:[0-9]+:[0-9]+: error[^\n]*" first "${err}")
  message(STATUS "case ${CASE}: refused, as it should be: ${first}")
else()
  message(FATAL_ERROR "compile_fails.cmake: EXPECT must be pass or fail, not ${EXPECT}")
endif()
