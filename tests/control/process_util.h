// The control tests' names for the child-process helper (tests/support/child_process.h).
#pragma once

#include "support/child_process.h"

namespace reactord::testing {
using test_support::ChildProcess;
using test_support::LineProcess;
using test_support::PtyProcess;
using test_support::run_command;
using test_support::RunResult;
}  // namespace reactord::testing
