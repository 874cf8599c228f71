// Reload without restart (issue #16 part 4) on the real reactord binary over real sockets:
// SIGHUP and Control.Reload (and `reactorctl reload` as a person types it) re-read the token
// files and the log level (--config FILE); a bad new file keeps the old one and says why in
// the log and in the reply; every reload is audited and counted; a live watch stream survives.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "control_test_util.h"
#include "daemon_process.h"
#include "support/child_process.h"
#include "reactord_process.h"

namespace reactord::test_support {
namespace {

// A private directory with files written the way Kubernetes updates a mounted Secret: a new
// file renamed over the old one (a reader sees the old or the new, never half).
struct Files {
  std::string dir;
  Files() {
    char tmpl[] = "/tmp/reactord-reload-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~Files() { std::system(("rm -rf " + dir).c_str()); }
  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    const std::string path = dir + "/" + name, tmp = path + ".new";
    std::ofstream(tmp, std::ios::trunc) << content;
    ::chmod(tmp.c_str(), mode);
    std::rename(tmp.c_str(), path.c_str());
    return path;
  }
};

// Occurrences of `pattern` in the daemon's output so far.
std::size_t count(const Daemon& d, const std::string& pattern) {
  const std::regex re(pattern);
  const std::string& out = d.process.output();
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(out.begin(), out.end(), re), std::sregex_iterator()));
}

// Waits (bounded) until `pattern` occurs at least n times in the output.
bool wait_count(Daemon& d, const std::string& pattern, std::size_t n,
                std::chrono::milliseconds limit = 15000ms) {
  std::string repeated = "(?:" + pattern + ")";
  std::string re;
  for (std::size_t i = 0; i < n; ++i) re += (i ? "[\\s\\S]*" : "") + repeated;
  return d.process.wait_for_output(re, limit).has_value();
}

grpc::StatusCode info_status(Daemon& d, const std::string& token, v1::ServerInfo* info = nullptr) {
  v1::ServerInfo scratch;
  return d.inspect()->GetServerInfo(ctx(5000ms, token).get(), {}, info ? info : &scratch).error_code();
}

v1::ReloadResponse reload_rpc(Daemon& d, const std::string& token, const std::string& level = "") {
  v1::ReloadRequest request;
  request.set_log_level(level);
  v1::ReloadResponse response;
  auto status = d.control()->Reload(ctx(10000ms, token).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

const v1::ReloadItem* item(const v1::ReloadResponse& r, const std::string& name) {
  for (const auto& i : r.items()) {
    if (i.name() == name) return &i;
  }
  return nullptr;
}

TEST(Reload, SighupRotatesTheAdminTokenWithoutDroppingAWatchStream) {
  Files files;
  const std::string token_file = files.write("admin.token", "old-admin-token\n");
  Daemon d({"--control-token-file", token_file});
  ASSERT_TRUE(d.ready()) << d.process.output();
  ASSERT_EQ(info_status(d, "old-admin-token"), grpc::StatusCode::OK);

  // A live watch stream, opened with the old token.
  grpc::ClientContext watch_ctx;
  watch_ctx.AddMetadata("authorization", "Bearer old-admin-token");
  watch_ctx.set_deadline(std::chrono::system_clock::now() + 60s);
  auto inspect = d.inspect();
  auto reader = inspect->WatchConnections(&watch_ctx, {});
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);

  files.write("admin.token", "new-admin-token\n");
  d.process.signal(SIGHUP);
  ASSERT_TRUE(d.process.wait_for_output(R"(reload \(SIGHUP\): done)", 15000ms)) << d.process.output();
  EXPECT_TRUE(d.process.wait_for_output(R"(reload \(SIGHUP\): control\.admin_token changed)", 1000ms))
      << d.process.output();

  EXPECT_EQ(info_status(d, "old-admin-token"), grpc::StatusCode::UNAUTHENTICATED);
  v1::ServerInfo info;
  EXPECT_EQ(info_status(d, "new-admin-token", &info), grpc::StatusCode::OK);
  EXPECT_EQ(info.reloads_ok(), 1u);
  EXPECT_EQ(info.reloads_failed(), 0u);
  EXPECT_GT(info.last_reload_unix_ms(), 0);
  EXPECT_TRUE(info.last_reload_ok());

  // The stream opened before the rotation still delivers: a new client is seen opening.
  TcpClient client(d.data_port);
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  ASSERT_TRUE(reader->Read(&event)) << "the watch stream was dropped by the reload";
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_OPENED);
  watch_ctx.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();

  // Audited: who (the signal), what changed; never the token.
  // (written once reload() returned: waited for, not assumed to be read already)
  EXPECT_TRUE(wait_count(
      d, R"(audit: rpc=Reload status=OK role=signal peer=SIGHUP .*control\.admin_token=changed)", 1))
      << d.process.output();
  EXPECT_EQ(d.process.output().find("new-admin-token"), std::string::npos) << d.process.output();
}

TEST(Reload, ABadNewTokenFileKeepsTheOldOneAndSaysWhy) {
  Files files;
  const std::string token_file = files.write("admin.token", "admin-token-1\n");
  Daemon d({"--control-token-file", token_file});
  ASSERT_TRUE(d.ready()) << d.process.output();

  struct Bad {
    const char* what;
    std::string content;
    mode_t mode;
    const char* why;  // in the reply and the log
  };
  const Bad bad[] = {
      {"empty", "", 0600, "holds no token"},
      {"blank lines", "\n  \n", 0600, "holds no token"},
      {"garbage", std::string("\x01\xff\xfe garbage"), 0600, "not a token"},
      {"world-readable", "admin-token-2\n", 0644, "readable by every user"},
  };
  std::size_t kept = 0;
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    files.write("admin.token", b.content, b.mode);
    v1::ReloadResponse r = reload_rpc(d, "admin-token-1");
    EXPECT_FALSE(r.ok());
    const v1::ReloadItem* token = item(r, "control.admin_token");
    ASSERT_NE(token, nullptr) << r.DebugString();
    EXPECT_EQ(token->outcome(), v1::RELOAD_OUTCOME_KEPT) << r.DebugString();
    EXPECT_NE(token->detail().find(b.why), std::string::npos) << token->detail();
    EXPECT_NE(token->detail().find("--control-token-file"), std::string::npos) << token->detail();
    ++kept;
    EXPECT_TRUE(wait_count(d, R"(control\.admin_token kept the old one: --control-token-file)", kept))
        << d.process.output();
    // The old token still works; the new content does not.
    EXPECT_EQ(info_status(d, "admin-token-1"), grpc::StatusCode::OK);
    EXPECT_EQ(info_status(d, "admin-token-2"), grpc::StatusCode::UNAUTHENTICATED);
  }
  // A good file again: applied.
  files.write("admin.token", "admin-token-3\n");
  v1::ReloadResponse r = reload_rpc(d, "admin-token-1");
  EXPECT_TRUE(r.ok()) << r.DebugString();
  ASSERT_NE(item(r, "control.admin_token"), nullptr);
  EXPECT_EQ(item(r, "control.admin_token")->outcome(), v1::RELOAD_OUTCOME_CHANGED);
  v1::ServerInfo info;
  EXPECT_EQ(info_status(d, "admin-token-3", &info), grpc::StatusCode::OK);
  EXPECT_EQ(info.reloads_failed(), 4u);
  EXPECT_EQ(info.reloads_ok(), 1u);
  // Every reload audited with its outcome (the caller's role: admin).
  EXPECT_TRUE(wait_count(d, R"(audit: rpc=Reload status=OK role=admin .*ok=true)", 1)) << d.process.output();
  EXPECT_EQ(count(d, R"(audit: rpc=Reload status=OK role=admin .*ok=false)"), 4u) << d.process.output();
}

TEST(Reload, OnlyTheAdminMayReload) {
  Files files;
  Daemon d({"--control-token-file", files.write("a", "admin-x\n"), "--control-viewer-token-file",
            files.write("v", "viewer-x\n")});
  ASSERT_TRUE(d.ready()) << d.process.output();
  v1::ReloadResponse response;
  EXPECT_EQ(d.control()->Reload(ctx().get(), {}, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(d.control()->Reload(ctx(5000ms, "viewer-x").get(), {}, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(wait_count(d, R"(audit: rpc=Reload status=PERMISSION_DENIED role=viewer)", 1))
      << d.process.output();
  // The viewer token rotates too.
  files.write("v", "viewer-y\n");
  v1::ReloadResponse r = reload_rpc(d, "admin-x");
  ASSERT_NE(item(r, "control.viewer_token"), nullptr) << r.DebugString();
  EXPECT_EQ(item(r, "control.viewer_token")->outcome(), v1::RELOAD_OUTCOME_CHANGED);
  EXPECT_EQ(info_status(d, "viewer-x"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(info_status(d, "viewer-y"), grpc::StatusCode::OK);
  // Both tokens equal: refused, both kept.
  files.write("v", "admin-x\n");
  r = reload_rpc(d, "admin-x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(item(r, "control.viewer_token")->outcome(), v1::RELOAD_OUTCOME_KEPT) << r.DebugString();
  EXPECT_EQ(info_status(d, "viewer-y"), grpc::StatusCode::OK);
}

// A client connecting is logged at debug ("loop 0: connection N from ...").
void connect_one(Daemon& d) {
  TcpClient client(d.data_port);
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
}

TEST(Reload, LogLevelFromTheConfigFileAndFromTheRequest) {
  Files files;
  const std::string config = files.write("reactord.conf", "log-level = \"info\"\n");
  const std::string token = files.write("admin.token", "t0k3n\n");
  Daemon d({"--config", config, "--control-token-file", token});
  ASSERT_TRUE(d.ready()) << d.process.output();
  const std::string debug_line = R"(loop 0: connection \d+ from)";

  connect_one(d);
  // At info: no debug line (a later info line proves the output was read past it).
  reload_rpc(d, "t0k3n");
  ASSERT_TRUE(wait_count(d, R"(reload \(rpc\): done)", 1)) << d.process.output();
  EXPECT_EQ(count(d, debug_line), 0u) << d.process.output();

  // The file says debug; SIGHUP applies it.
  files.write("reactord.conf", "log-level = \"debug\"\n");
  d.process.signal(SIGHUP);
  ASSERT_TRUE(wait_count(d, R"(reload \(SIGHUP\): log_level changed: info -> debug)", 1))
      << d.process.output();
  connect_one(d);
  EXPECT_TRUE(wait_count(d, debug_line, 1)) << d.process.output();
  v1::ServerInfo info;
  ASSERT_EQ(info_status(d, "t0k3n", &info), grpc::StatusCode::OK);
  EXPECT_EQ(info.log_level(), "debug");

  // The request's level wins over the file's, until the next reload.
  v1::ReloadResponse r = reload_rpc(d, "t0k3n", "warn");
  ASSERT_NE(item(r, "log_level"), nullptr);
  EXPECT_EQ(item(r, "log_level")->outcome(), v1::RELOAD_OUTCOME_CHANGED);
  EXPECT_EQ(item(r, "log_level")->detail(), "debug -> warn");
  connect_one(d);
  const std::size_t seen = count(d, debug_line);
  // A setting only a restart applies is reported, and the reloadable one still applies.
  files.write("reactord.conf", "log-level = \"info\"\nmax-connections = 7\n");
  d.process.signal(SIGHUP);
  ASSERT_TRUE(wait_count(d, R"(reload \(SIGHUP\): done)", 2)) << d.process.output();
  EXPECT_EQ(count(d, debug_line), seen) << d.process.output();
  EXPECT_TRUE(wait_count(d, R"(restart_settings needs a restart: --max-connections 10000 -> 7)", 1))
      << d.process.output();
  EXPECT_TRUE(wait_count(d, R"(log_level changed: warn -> info)", 1)) << d.process.output();

  // A file that does not parse: the config item is kept with the reason, nothing else moves.
  files.write("reactord.conf", "log-level = \"loud\"\n");
  r = reload_rpc(d, "t0k3n");
  EXPECT_FALSE(r.ok());
  ASSERT_NE(item(r, "config"), nullptr) << r.DebugString();
  EXPECT_EQ(item(r, "config")->outcome(), v1::RELOAD_OUTCOME_KEPT);
  EXPECT_NE(item(r, "config")->detail().find("--log-level 'loud'"), std::string::npos) << r.DebugString();
  ASSERT_EQ(info_status(d, "t0k3n", &info), grpc::StatusCode::OK);
  EXPECT_EQ(info.log_level(), "info");

  // An unknown level in the request: refused with the reason, the level stays.
  r = reload_rpc(d, "t0k3n", "loud");
  EXPECT_EQ(item(r, "log_level")->outcome(), v1::RELOAD_OUTCOME_KEPT) << r.DebugString();
}

TEST(Reload, ReactorctlReloadAsAPersonTypesIt) {
  Files files;
  const std::string token_file = files.write("admin.token", "first-token\n");
  const std::string ctl_token = files.write("ctl.token", "first-token\n");
  Daemon d({"--control-token-file", token_file});
  ASSERT_TRUE(d.ready()) << d.process.output();
  auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {REACTORCTL_BIN, "--target", d.control_target(), "--token-file",
                                     ctl_token};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  RunResult r = ctl({"reload"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ITEM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("control.admin_token"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unchanged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reloaded"), std::string::npos) << r.out;

  // A bad file: exit 1, the reason in the table and a line on stderr.
  files.write("admin.token", "");
  r = ctl({"reload"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("kept"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds no token"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("kept their old value"), std::string::npos) << r.err;

  // Rotated: the operator's reload with the old token applies it; the old token is then refused.
  files.write("admin.token", "second-token\n");
  r = ctl({"reload", "--log-level", "debug", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto reply = parse_json<v1::ReloadResponse>(r.out);
  EXPECT_TRUE(reply.ok());
  r = ctl({"info"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("UNAUTHENTICATED"), std::string::npos) << r.err;
  files.write("ctl.token", "second-token\n");
  r = ctl({"info"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("log level:    debug"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reloads:      2 ok, 1 failed"), std::string::npos) << r.out;

  // Usage errors: exit 2, one line naming the flag.
  r = ctl({"reload", "--log-level", "loud"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--log-level"), std::string::npos) << r.err;
  r = ctl({"reload", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("reactorctl reload --log-level debug"), std::string::npos) << r.out;
}

// Two server certificates (server-a, server-b) from one CA, made with the openssl tool.
bool make_pki(const std::string& dir) {
  const std::string script = "set -e\ncd " + dir +
                             "\n"
                             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext\n"
                             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                             "  -keyout ca.key -out ca.pem -days 1 -subj /CN=reload-test-ca 2>/dev/null\n"
                             "for who in a b; do\n"
                             "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                             "    -keyout $who.key -out $who.csr -subj /CN=server-$who 2>/dev/null\n"
                             "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                             "    -out $who.pem -days 1 -extfile san.ext 2>/dev/null\n"
                             "done\nchmod 600 *.key\n";
  std::ofstream(dir + "/make.sh") << script;
  return std::system(("/bin/sh " + dir + "/make.sh").c_str()) == 0;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh TLS handshake by python3's ssl module (a peer that is not gRPC): the common name of
// the certificate the server presents, or the error.
std::string handshake_common_name(std::uint16_t port, const std::string& ca) {
  const std::string code =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
      "ctx.set_alpn_protocols(['h2'])\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5) as raw:\n"
      "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
      "        print(dict(x[0] for x in s.getpeercert()['subject'])['commonName'])\n";
  RunResult r = run_command({"/usr/bin/python3", "-c", code, std::to_string(port), ca});
  return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "error: " + r.err;
}

TEST(Reload, ControlTlsCertificateRotatedWhileAChannelStaysOpen) {
  Files files;
  ASSERT_TRUE(make_pki(files.dir)) << "openssl could not make test certificates";
  const std::string cert = files.write("server.pem", slurp(files.dir + "/a.pem"));
  const std::string key = files.write("server.key", slurp(files.dir + "/a.key"));
  const std::string token = files.write("admin.token", "tls-admin\n");
  Daemon d({"--control-tls-cert", cert, "--control-tls-key", key, "--control-token-file", token});
  ASSERT_TRUE(d.ready()) << d.process.output();
  const std::string ca = files.dir + "/ca.pem";
  EXPECT_EQ(handshake_common_name(d.control_port, ca), "server-a");

  // An established channel with a live watch stream on it.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(ca);
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(d.control_target(), grpc::SslCredentials(ssl), args);
  grpc::ClientContext watch_ctx;
  watch_ctx.AddMetadata("authorization", "Bearer tls-admin");
  watch_ctx.set_deadline(std::chrono::system_clock::now() + 60s);
  auto inspect = v1::Inspect::NewStub(channel);
  auto reader = inspect->WatchConnections(&watch_ctx, {});
  v1::ConnectionEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_EQ(event.kind(), v1::ConnectionEvent::KIND_SYNCED);
  auto control = v1::Control::NewStub(channel);
  auto reload = [&] {
    v1::ReloadResponse response;
    auto status = control->Reload(ctx(10000ms, "tls-admin").get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };

  // Rotated: the new certificate is served to new handshakes.
  files.write("server.pem", slurp(files.dir + "/b.pem"));
  files.write("server.key", slurp(files.dir + "/b.key"));
  v1::ReloadResponse r = reload();
  ASSERT_NE(item(r, "control.tls"), nullptr) << r.DebugString();
  EXPECT_EQ(item(r, "control.tls")->outcome(), v1::RELOAD_OUTCOME_CHANGED) << r.DebugString();
  EXPECT_TRUE(eventually([&] { return handshake_common_name(d.control_port, ca) == "server-b"; }, 20000ms))
      << handshake_common_name(d.control_port, ca);

  // The channel established before still works, on the same stream.
  TcpClient client(d.data_port);
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  ASSERT_TRUE(reader->Read(&event)) << "the watch stream was dropped by the TLS reload";
  EXPECT_EQ(event.kind(), v1::ConnectionEvent::KIND_OPENED);
  v1::ServerInfo info;
  EXPECT_TRUE(inspect->GetServerInfo(ctx(5000ms, "tls-admin").get(), {}, &info).ok());

  // Bad new files keep the certificate in force, and say why.
  struct Bad {
    const char* what;
    std::string cert, key;
    mode_t key_mode;
    const char* why;
  };
  const Bad bad[] = {
      {"garbage certificate", "not a certificate\n", slurp(files.dir + "/b.key"), 0600, "no PEM certificate"},
      {"empty key", slurp(files.dir + "/b.pem"), "", 0600, "no PEM private key"},
      {"key of another certificate", slurp(files.dir + "/b.pem"), slurp(files.dir + "/a.key"), 0600,
       "does not match"},
      {"world-readable key", slurp(files.dir + "/a.pem"), slurp(files.dir + "/a.key"), 0644,
       "readable by every user"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    files.write("server.pem", b.cert);
    files.write("server.key", b.key, b.key_mode);
    r = reload();
    EXPECT_FALSE(r.ok());
    ASSERT_NE(item(r, "control.tls"), nullptr) << r.DebugString();
    EXPECT_EQ(item(r, "control.tls")->outcome(), v1::RELOAD_OUTCOME_KEPT) << r.DebugString();
    EXPECT_NE(item(r, "control.tls")->detail().find(b.why), std::string::npos) << r.DebugString();
  }
  EXPECT_TRUE(wait_count(d, R"(control\.tls kept the old one: )", 4)) << d.process.output();
  EXPECT_EQ(handshake_common_name(d.control_port, ca), "server-b");
  EXPECT_TRUE(inspect->GetServerInfo(ctx(5000ms, "tls-admin").get(), {}, &info).ok());
  watch_ctx.TryCancel();
  while (reader->Read(&event)) {}
  reader->Finish();
}

// The data plane's TLS (--tls-listen, the tls engineer's Server::reload_tls) joins SIGHUP too.
TEST(Reload, SighupReloadsTheDataPlaneCertificate) {
  Files files;
  ASSERT_TRUE(make_pki(files.dir)) << "openssl could not make test certificates";
  const std::string cert = files.write("data.pem", slurp(files.dir + "/a.pem"));
  const std::string key = files.write("data.key", slurp(files.dir + "/a.key"));
  Daemon d({"--tls-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key});
  ASSERT_TRUE(d.ready()) << d.process.output();
  auto port = d.process.wait_for_output(R"(listening for TLS on 127\.0\.0\.1:(\d+))", 5000ms);
  ASSERT_TRUE(port) << d.process.output();
  const auto tls_port = static_cast<std::uint16_t>(std::stoi(*port));
  const std::string ca = files.dir + "/ca.pem";
  EXPECT_EQ(handshake_common_name(tls_port, ca), "server-a");

  files.write("data.pem", slurp(files.dir + "/b.pem"));
  files.write("data.key", slurp(files.dir + "/b.key"));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(wait_count(d, R"(reload \(SIGHUP\): done)", 1)) << d.process.output();
  EXPECT_TRUE(wait_count(d, R"(reload \(SIGHUP\): data\.tls changed)", 1)) << d.process.output();
  EXPECT_EQ(handshake_common_name(tls_port, ca), "server-b");

  // A key of another certificate: kept, with the reason; the new certificate stays.
  files.write("data.key", slurp(files.dir + "/a.key"));
  d.process.signal(SIGHUP);
  ASSERT_TRUE(wait_count(d, R"(reload \(SIGHUP\): done)", 2)) << d.process.output();
  EXPECT_TRUE(wait_count(d, R"(reload \(SIGHUP\): data\.tls kept the old one: )", 1)) << d.process.output();
  EXPECT_EQ(handshake_common_name(tls_port, ca), "server-b");
}

TEST(Reload, BadConfigFileAtStartIsAUsageError) {
  auto [code, out] = run_to_end({binary(), "--config", "/no/such/dir/reactord.conf"}, 10000ms);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("/no/such/dir/reactord.conf"), std::string::npos) << out;
  Files files;
  const std::string config = files.write("c.conf", "no-such-flag = 1\n");
  // (Should it start anyway, it must not take a real port.)
  std::tie(code, out) = run_to_end({binary(), "--config", config, "--listen", "127.0.0.1:0",
                                    "--control-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
                                   10000ms);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("no-such-flag"), std::string::npos) << out;
}

}  // namespace
}  // namespace reactord::test_support
