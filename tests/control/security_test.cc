// Control plane security over real gRPC channels: bearer tokens (admin / viewer), audit lines,
// the loopback rule, TLS and mTLS.
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "control_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace reactord::test_support {
namespace {

// Collects the "audit" logger's lines; read under the sink's own mutex.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

struct AuditCapture {
  AuditCapture() {
    sink = std::make_shared<CaptureSink>();
    spdlog::register_logger(std::make_shared<spdlog::logger>("audit", sink));
  }
  ~AuditCapture() { spdlog::drop("audit"); }
  std::shared_ptr<CaptureSink> sink;
};

control::ControlOptions with_tokens(const std::string& admin, const std::string& viewer) {
  control::ControlOptions o;
  o.token_file = temp_file(admin + "\n");
  o.viewer_token_file = temp_file(viewer + "\n");
  return o;
}

TEST(Security, TokensGateBothServicesAndViewerCannotControl) {
  AuditCapture audit;
  InProcessReactord r(1, with_tokens("admin-secret", "viewer-secret"));
  auto inspect = r.inspect();
  auto control = r.control();
  v1::ServerInfo info;
  EXPECT_EQ(inspect->GetServerInfo(ctx().get(), {}, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(inspect->GetServerInfo(ctx(5000ms, "wrong").get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(inspect->GetServerInfo(ctx(5000ms, "admin-secre").get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(inspect->GetServerInfo(ctx(5000ms, "viewer-secret").get(), {}, &info).ok());
  EXPECT_TRUE(inspect->GetServerInfo(ctx(5000ms, "admin-secret").get(), {}, &info).ok());

  v1::ExitLoopRequest bad_delay;
  bad_delay.set_delay_ms(-1);  // harmless request: refused before or after auth
  v1::LoopActionResponse response;
  EXPECT_EQ(control->ExitLoop(ctx().get(), bad_delay, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(control->ExitLoop(ctx(5000ms, "viewer-secret").get(), bad_delay, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(control->ExitLoop(ctx(5000ms, "admin-secret").get(), bad_delay, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Health stays open.
  auto health = grpc::health::v1::Health::NewStub(r.channel());
  grpc::health::v1::HealthCheckResponse h;
  EXPECT_TRUE(health->Check(ctx().get(), {}, &h).ok());
  EXPECT_EQ(h.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  // Every Control call was audited, refused ones included; tokens never appear.
  auto lines = audit.sink->lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("role=none"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("role=viewer"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("role=admin"), std::string::npos) << lines[2];
  for (const auto& line : lines) {
    EXPECT_NE(line.find("rpc=ExitLoop"), std::string::npos) << line;
    EXPECT_NE(line.find("peer=ipv4:127.0.0.1:"), std::string::npos) << line;
    EXPECT_NE(line.find("delay_ms: -1"), std::string::npos) << line;
    EXPECT_EQ(line.find("secret"), std::string::npos) << line;
  }
}

// A reload swaps the token set while calls run on gRPC's threads: every call sees one whole
// set (the old or the new token works, never neither, never an error of another kind), and
// once the reload returned only the new one works. Run under TSan by the tsan preset.
TEST(Security, TokenReloadWhileCallsRunIsAtomic) {
  control::ControlOptions options = with_tokens("token-0", "viewer-token");
  InProcessReactord r(1, options);
  std::atomic<int> in_force{0};  // the generation whose token the last reload put in force
  std::atomic<bool> done{false};
  std::atomic<int> odd{0}, calls{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      auto inspect = r.inspect();
      while (!done.load()) {
        const int g = in_force.load();
        v1::ServerInfo info;
        auto old_status = inspect->GetServerInfo(ctx(5000ms, "token-" + std::to_string(g)).get(), {}, &info);
        auto new_status =
            inspect->GetServerInfo(ctx(5000ms, "token-" + std::to_string(g + 1)).get(), {}, &info);
        // Between two reloads one of the two (or, across one, both in turn) is accepted.
        for (const auto& s : {old_status, new_status}) {
          if (!s.ok() && s.error_code() != grpc::StatusCode::UNAUTHENTICATED) ++odd;
        }
        if (!old_status.ok() && !new_status.ok() && in_force.load() == g) ++odd;
        ++calls;
      }
    });
  }
  for (int g = 1; g <= 20; ++g) {
    std::ofstream(options.token_file, std::ios::trunc) << "token-" << g << "\n";
    ReloadRequest request;
    request.source = "test";
    const ReloadReport report = r.server().reload(request);
    EXPECT_TRUE(report.ok()) << report.summary();
    in_force.store(g);
    const int before = calls.load();
    eventually([&] { return calls.load() > before + 4; }, 5000ms);
  }
  done.store(true);
  for (auto& t : callers) t.join();
  EXPECT_EQ(odd.load(), 0);
  EXPECT_GT(calls.load(), 20);
  v1::ServerInfo info;
  EXPECT_TRUE(r.inspect()->GetServerInfo(ctx(5000ms, "token-20").get(), {}, &info).ok());
  EXPECT_EQ(r.inspect()->GetServerInfo(ctx(5000ms, "token-19").get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(info.reloads_ok(), 20u);
}

TEST(Security, AuditLineNamesWhatWasClosedAndTheResult) {
  AuditCapture audit;
  InProcessReactord r;
  TcpClient client(r.data_port());
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  v1::CloseConnectionsRequest request;
  request.mutable_filter()->set_peer("127.0.0.0/8");
  request.set_mode(v1::CLOSE_MODE_ABORT);
  request.set_wait(true);
  v1::CloseConnectionsResponse response;
  ASSERT_TRUE(r.control()->CloseConnections(ctx().get(), request, &response).ok());
  auto lines = audit.sink->lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("rpc=CloseConnections"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("127.0.0.0/8"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("CLOSE_MODE_ABORT"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("matched=1 closed=1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("status=OK"), std::string::npos) << lines[0];
}

TEST(Security, NonLoopbackBindWithoutAuthIsRefused) {
  Config config;
  config.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  Server server(config);
  control::ControlOptions options;
  options.listen = *reactor::SocketAddress::parse("0.0.0.0:0");
  server.add_component(std::make_unique<control::ControlPlane>(options));
  try {
    server.start();
    ADD_FAILURE() << "start() should refuse a non-loopback control address without auth";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("refusing"), std::string::npos) << e.what();
  }
}

TEST(Security, UnreadableTokenFileFailsStart) {
  Config config;
  config.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  Server server(config);
  control::ControlOptions options;
  options.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  options.token_file = "/nonexistent/token";
  server.add_component(std::make_unique<control::ControlPlane>(options));
  EXPECT_THROW(server.start(), std::exception);
}

// Certificates made with the openssl tool at test time (EC keys: fast).
struct Pki {
  std::string dir;
  Pki() {
    char tmpl[] = "/tmp/reactord-pki-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::string script = "set -e\ncd " + dir +
                         "\n"
                         "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext\n"
                         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                         "  -keyout ca.key -out ca.pem -days 1 -subj /CN=reactord-test-ca 2>/dev/null\n"
                         "for who in server client; do\n"
                         "  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                         "    -keyout $who.key -out $who.csr -subj /CN=$who-localhost 2>/dev/null\n"
                         "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                         "    -out $who.pem -days 1 -extfile san.ext 2>/dev/null\n"
                         "done\n";
    std::ofstream(dir + "/make.sh") << script;
    ok = std::system(("/bin/sh " + dir + "/make.sh").c_str()) == 0 &&
         std::ifstream(dir + "/client.pem").good();
  }
  ~Pki() { std::system(("rm -rf " + dir).c_str()); }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool ok = false;
};

std::shared_ptr<grpc::Channel> tls_channel(const Pki& pki, std::uint16_t port, bool client_cert) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pki.read("ca.pem");
  if (client_cert) {
    ssl.pem_cert_chain = pki.read("client.pem");
    ssl.pem_private_key = pki.read("client.key");
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl), args);
}

TEST(Security, TlsAndMutualTls) {
  Pki pki;
  ASSERT_TRUE(pki.ok) << "openssl could not make test certificates";
  {
    control::ControlOptions tls;
    tls.tls_cert = pki.path("server.pem");
    tls.tls_key = pki.path("server.key");
    InProcessReactord r(1, tls);
    v1::ServerInfo info;
    auto stub = v1::Inspect::NewStub(tls_channel(pki, r.control_port(), false));
    auto status = stub->GetServerInfo(ctx().get(), {}, &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    // A plaintext client cannot talk to it.
    EXPECT_FALSE(r.inspect()->GetServerInfo(ctx(1000ms).get(), {}, &info).ok());
  }
  {
    AuditCapture audit;
    control::ControlOptions mtls;
    mtls.tls_cert = pki.path("server.pem");
    mtls.tls_key = pki.path("server.key");
    mtls.tls_client_ca = pki.path("ca.pem");
    InProcessReactord r(1, mtls);
    v1::ServerInfo info;
    auto anonymous = v1::Inspect::NewStub(tls_channel(pki, r.control_port(), false));
    EXPECT_FALSE(anonymous->GetServerInfo(ctx(2000ms).get(), {}, &info).ok());
    auto channel = tls_channel(pki, r.control_port(), true);
    auto stub = v1::Inspect::NewStub(channel);
    auto status = stub->GetServerInfo(ctx().get(), {}, &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::LoopActionResponse response;
    v1::ExitLoopRequest bad;
    bad.set_delay_ms(-1);
    EXPECT_EQ(v1::Control::NewStub(channel)->ExitLoop(ctx().get(), bad, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    auto lines = audit.sink->lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("cert=client-localhost"), std::string::npos) << lines[0];
  }
}

}  // namespace
}  // namespace reactord::test_support
