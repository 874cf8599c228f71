// The clients' main (reactorctl, reactor-client, reactor-bench): whatever escapes the program's
// run (out of memory, a reactor error at start-up, a library's exception) ends the process with
// one line naming the program, not with std::terminate. Header-only. Main thread only.
#pragma once

#include <cstdio>
#include <exception>

namespace reactord::cli {

// run(argc, argv); if it throws, prints "<program>: <what>" on stderr and returns
// `exit_on_exception`.
template <typename Run>
int run_main(const char* program, int exit_on_exception, Run run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return exit_on_exception;
  }
}

}  // namespace reactord::cli
