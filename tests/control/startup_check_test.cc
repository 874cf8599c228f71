// Configuration is checked before any socket is bound (the real reactord binary): every
// config error exits 2 with one line that names the flag, nothing was listening meanwhile, and
// gRPC's own multi-line messages never reach the operator.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "control_test_util.h"
#include "daemon_process.h"
#include "support/taken_port.h"
#include "support/tcp_client.h"

namespace reactord::test_support {
namespace {

struct Outcome {
  int code;
  std::string out;
};

Outcome run_reactord(std::vector<std::string> flags) {
  auto [code, out] = run_to_end(Daemon::argv(std::move(flags)));
  return {code, out};
}

std::size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

// One line, "reactord: ..." naming `flag`, exit 2, and nothing was bound or served before.
void expect_config_error(const std::vector<std::string>& flags, const std::string& flag,
                         const std::string& why = "") {
  Outcome r = run_reactord(flags);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  EXPECT_EQ(r.out.rfind("reactord: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(flag), std::string::npos) << "names " << flag << ": " << r.out;
  if (!why.empty()) {
    EXPECT_NE(r.out.find(why), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << "bound before the check: " << r.out;
}

std::string file_with(const std::string& text, mode_t mode = 0600) {
  std::string path = temp_file(text);
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(StartupCheck, PublicControlAddressWithoutAuthIsAConfigError) {
  expect_config_error({"--control-listen", "0.0.0.0:0"}, "--control-listen", "without authentication");
}

TEST(StartupCheck, TokenFilesAreCheckedBeforeBinding) {
  expect_config_error({"--control-token-file", "/nonexistent/token"}, "--control-token-file",
                      "/nonexistent/token");
  expect_config_error({"--control-token-file", file_with("")}, "--control-token-file", "no token");
  expect_config_error({"--control-token-file", file_with("  \n\n")}, "--control-token-file", "no token");
  expect_config_error({"--control-viewer-token-file", file_with(std::string("ab\x01\x02\xff", 5))},
                      "--control-viewer-token-file");
  // /dev/zero: a bounded read and a clear line, not std::bad_alloc.
  expect_config_error({"--control-token-file", "/dev/zero"}, "--control-token-file", "/dev/zero");
  // A directory.
  expect_config_error({"--control-token-file", "/tmp"}, "--control-token-file", "/tmp");
}

TEST(StartupCheck, WorldReadableTokenFileGivesAWarning) {
  const std::string path = file_with("s3cret\n", 0644);
  Daemon d({"--control-token-file", path});
  ASSERT_TRUE(d.ready()) << d.process.output();
  EXPECT_NE(d.process.output().find("[warning]"), std::string::npos) << d.process.output();
  EXPECT_NE(d.process.output().find(path + " is readable by every user"), std::string::npos)
      << d.process.output();
  const std::string quiet = file_with("s3cret\n", 0600);
  Daemon e({"--control-token-file", quiet});
  ASSERT_TRUE(e.ready()) << e.process.output();
  EXPECT_EQ(e.process.output().find("readable by every user"), std::string::npos) << e.process.output();
}

TEST(StartupCheck, TlsFilesAreCheckedBeforeBinding) {
  const std::string garbage =
      file_with("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  const std::string text = file_with("hello\n");
  expect_config_error({"--control-tls-cert", "/nonexistent/cert.pem", "--control-tls-key", text},
                      "--control-tls-cert", "/nonexistent/cert.pem");
  expect_config_error({"--control-tls-cert", garbage, "--control-tls-key", text}, "--control-tls-cert");
  expect_config_error({"--control-tls-cert", text, "--control-tls-key", text}, "--control-tls-cert");
  expect_config_error({"--control-tls-cert", text}, "--control-tls-key");
  expect_config_error({"--control-tls-client-ca", text}, "--control-tls-client-ca");
}

TEST(StartupCheck, GarbageKeyWithAGoodCertificateNamesTheKeyFlag) {
  const std::string dir = temp_file("");
  ::unlink(dir.c_str());
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string cmd = "cd " + dir +
                          " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
                          " -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=localhost"
                          " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string garbage = file_with("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  expect_config_error({"--control-tls-cert", dir + "/cert.pem", "--control-tls-key", garbage},
                      "--control-tls-key");
  // The right pair starts (TLS).
  Daemon d({"--control-tls-cert", dir + "/cert.pem", "--control-tls-key", dir + "/key.pem"});
  EXPECT_TRUE(d.ready()) << d.process.output();
}

TEST(StartupCheck, ATakenControlPortSaysSoInOneLine) {
  // Someone else listens on the control port (a plain socket, no SO_REUSEPORT).
  const test_support::TakenPort holder;
  ASSERT_FALSE(holder.address().empty());
  const std::string taken = holder.address();
  for (const char* flag : {"--control-listen", "--metrics-listen"}) {
    Outcome r = run_reactord({flag, taken});
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_EQ(lines(r.out), 1u) << "one line, no gRPC noise: " << r.out;
    EXPECT_NE(r.out.find(flag), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(taken), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("already in use"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("listening on"), std::string::npos) << "bound before the check: " << r.out;
  }
}

TEST(StartupCheck, AnAddressThatIsNotLocalNamesItsFlag) {
  // TEST-NET-1 (RFC 5737): never an address of this machine.
  for (const char* flag : {"--listen", "--control-listen", "--metrics-listen"}) {
    std::vector<std::string> flags = {flag, "192.0.2.1:0"};
    if (std::string(flag) == "--control-listen") {
      flags.push_back("--control-token-file");
      flags.push_back(file_with("tok\n"));
    }
    Outcome r = run_reactord(flags);
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_EQ(lines(r.out), 1u) << r.out;
    EXPECT_NE(r.out.find(flag), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("192.0.2.1"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("listening on"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace reactord::test_support
