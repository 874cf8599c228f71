// The audit log of the real reactord binary: one line per Control call with the gRPC status
// name, role, peer and request, refused calls included, whatever --log-level says; on stderr
// by default or in the --audit-log file; bounded however large the request.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "control_test_util.h"
#include "daemon_process.h"

namespace reactord::test_support {
namespace {

// A port free right now (bound to port 0, then released).
std::uint16_t free_port() {
  reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto any = reactor::SocketAddress::ipv4_loopback(0);
  if (::bind(fd.get(), any.get(), any.length()) != 0) return 0;
  return reactor::SocketAddress::local_of(fd.get()).port();
}

std::vector<std::string> audit_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("[audit]") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Drain refused (no token), Resume refused (viewer), Drain + Resume done (admin).
void four_calls(Daemon& d) {
  auto control = d.control();
  v1::DrainResponse drained;
  v1::ResumeResponse resumed;
  EXPECT_EQ(control->Drain(ctx().get(), {}, &drained).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(control->Resume(ctx(5000ms, "viewer-tok").get(), {}, &resumed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(control->Drain(ctx(5000ms, "admin-tok").get(), {}, &drained).ok());
  EXPECT_TRUE(control->Resume(ctx(5000ms, "admin-tok").get(), {}, &resumed).ok());
}

void expect_four_lines(const std::vector<std::string>& lines, const std::string& all) {
  ASSERT_EQ(lines.size(), 4u) << all;
  EXPECT_NE(lines[0].find("rpc=Drain status=UNAUTHENTICATED role=none peer=ipv4:127.0.0.1:"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("rpc=Resume status=PERMISSION_DENIED role=viewer peer=ipv4:127.0.0.1:"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("rpc=Drain status=OK role=admin"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("rpc=Resume status=OK role=admin"), std::string::npos) << lines[3];
  for (const auto& line : lines) EXPECT_EQ(line.find("-tok"), std::string::npos) << "no token in: " << line;
}

TEST(AuditLog, LogLevelWarnDoesNotSilenceItAndRefusedCallsAreThere) {
  // At warn, the control plane's "listening on" line is not printed: give it a port.
  const std::string control = "127.0.0.1:" + std::to_string(free_port());
  Daemon d({"--log-level", "warn", "--control-listen", control, "--control-token-file",
            temp_file("admin-tok\n"), "--control-viewer-token-file", temp_file("viewer-tok\n")});
  ASSERT_NE(d.data_port, 0) << d.process.output();
  d.control_port = static_cast<std::uint16_t>(std::stoi(control.substr(control.find(':') + 1)));
  four_calls(d);
  d.process.wait_for_output("rpc=Resume status=OK", 5000ms);
  expect_four_lines(audit_lines(d.process.output()), d.process.output());
}

TEST(AuditLog, GoesToTheFileGiven) {
  const std::string path = temp_file("");
  Daemon d({"--audit-log", path, "--control-token-file", temp_file("admin-tok\n"),
            "--control-viewer-token-file", temp_file("viewer-tok\n")});
  ASSERT_TRUE(d.ready()) << d.process.output();
  four_calls(d);
  // Flushed at every line: the file holds them once the calls have answered.
  expect_four_lines(audit_lines(read_file(path)), read_file(path));
  EXPECT_TRUE(audit_lines(d.process.output()).empty()) << d.process.output();
}

TEST(AuditLog, AnUnopenableFileIsAConfigError) {
  auto [code, out] = run_to_end(Daemon::argv({"--audit-log", "/dev/null/audit.log"}));
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--audit-log"), std::string::npos) << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
}

TEST(AuditLog, AMillionIdsMakeAShortLineRefusedOrNot) {
  // A message that large must reach the handlers (the default limit refuses it in transport,
  // before any audit): the audit line is what is under test here.
  Daemon d({"--control-token-file", temp_file("admin-tok\n"), "--control-max-message-bytes", "16MiB"});
  ASSERT_TRUE(d.ready()) << d.process.output();
  v1::CloseConnectionsRequest request;
  for (std::uint64_t id = 1; id <= 1'000'000; ++id) request.add_ids(id);
  request.set_dry_run(true);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(d.control_target(), grpc::InsecureChannelCredentials(), args);
  auto control = v1::Control::NewStub(channel);
  v1::CloseConnectionsResponse response;
  const std::size_t before = d.process.output().size();
  auto refused = control->CloseConnections(ctx(20000ms).get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << refused.error_message();
  auto allowed = control->CloseConnections(ctx(20000ms, "admin-tok").get(), request, &response);
  EXPECT_FALSE(allowed.ok());  // none of those ids exists (or too many ids): refused either way
  ASSERT_TRUE(d.process.wait_for_output("rpc=CloseConnections status=(?!UNAUTHENTICATED)", 10000ms))
      << d.process.output().substr(before, 4000);
  auto lines = audit_lines(d.process.output().substr(before));
  ASSERT_EQ(lines.size(), 2u) << d.process.output().substr(before, 8000);
  EXPECT_NE(lines[0].find("status=UNAUTHENTICATED"), std::string::npos) << lines[0];
  for (const auto& line : lines) {
    EXPECT_LT(line.size(), 4096u) << line.substr(0, 300);
    EXPECT_NE(line.find("ids: 1 ids: 2 "), std::string::npos) << line.substr(0, 300);
    EXPECT_NE(line.find("(999984 more ids)"), std::string::npos) << line.substr(0, 3000);
  }
  // The whole output of both calls, not just the audit lines, stayed small.
  EXPECT_LT(d.process.output().size() - before, 16384u);
}

}  // namespace
}  // namespace reactord::test_support
