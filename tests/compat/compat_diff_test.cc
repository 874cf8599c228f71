// Each C program of programs/ runs twice — built against libevent and against
// libreactor_event — and the two must print exactly the same observations, on epoll and on
// poll (chosen the libevent way: EVENT_NOEPOLL, which both libraries honour). The programs
// print their backend, so the choice itself is checked too.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace {

std::vector<std::string> programs() {
  std::vector<std::string> out;
  std::stringstream in(COMPAT_PROGRAMS);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

struct ProgramRun {
  int exit_code = -1;
  std::string output;
};

ProgramRun run_program(const std::string& path, const std::vector<std::string>& env) {
  reactord::test_support::ConsoleProcess p({path}, env);
  ProgramRun r;
  auto code = p.wait_exit(std::chrono::seconds(60));
  r.exit_code = code ? *code : -1;
  r.output = p.output();
  return r;
}

struct Case {
  std::string program;
  std::string backend;  // "epoll" or "poll"
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.program << " on " << c.backend; }

class CompatDiffTest : public ::testing::TestWithParam<Case> {};

TEST_P(CompatDiffTest, SameOutputAsLibevent) {
  const Case& c = GetParam();
  // Both runs get the same environment; EVENT_NOEPOLL picks poll in libevent and in ours.
  std::vector<std::string> env;
  if (c.backend == "poll") env.push_back("EVENT_NOEPOLL=1");
  const std::string dir = COMPAT_PROGRAM_DIR;
  ProgramRun reference = run_program(dir + "/" + c.program + "_libevent", env);
  ProgramRun ours = run_program(dir + "/" + c.program + "_reactor", env);
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  // The programs print their observations and "done" last: a run that stopped early is not
  // a pass, even if both stopped at the same place.
  if (reference.output.find("method: ") != std::string::npos) {
    ASSERT_NE(reference.output.find("method: " + c.backend + "\n"), std::string::npos) << reference.output;
  }
  ASSERT_NE(reference.output.find("done\n"), std::string::npos) << reference.output;
  EXPECT_EQ(ours.exit_code, 0) << ours.output;
  EXPECT_EQ(ours.output, reference.output);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& p : programs()) {
    out.push_back({p, "epoll"});
    out.push_back({p, "poll"});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Programs, CompatDiffTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& instance) {
                           return instance.param.program + "_" + instance.param.backend;
                         });

}  // namespace
