// Server::reload_tls, in process: after the certificate files change, new TLS handshakes get the
// new certificate while a client connected before keeps its session and its echo; a bad file
// keeps the old certificate and says which flag. (The hook that calls it at SIGHUP / Reload is
// the reload engineer's; this proves what it will call.)
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "server_fixture.h"
#include "tls_test_support.h"

namespace reactord::test_support {
namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A blocking TLS client (bounded by socket timeouts) that trusts `ca`.
class TlsClient {
 public:
  TlsClient(const reactor::SocketAddress& address, X509* ca) : ctx_(reactord::test_support::client_ctx(ca)) {
    fd_ = connect_to(address);
    const int raw = fd_.get();  // blocking, bounded by the timeouts below
    timeval tv{10, 0};
    ::setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(raw, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssl_ = SSL_new(ctx_.get());
    SSL_set_fd(ssl_, raw);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    connected_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() { SSL_free(ssl_); }
  bool connected() const { return connected_; }
  std::string server_cn() const {
    X509* cert = SSL_get0_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    return cn;
  }
  std::string read(std::size_t n) {
    std::string out;
    char buf[256];
    while (out.size() < n) {
      const int r = SSL_read(ssl_, buf, static_cast<int>(std::min(sizeof buf, n - out.size())));
      if (r <= 0) break;
      out.append(buf, static_cast<std::size_t>(r));
    }
    return out;
  }
  bool write(const std::string& text) {
    return SSL_write(ssl_, text.data(), static_cast<int>(text.size())) > 0;
  }

 private:
  reactord::test_support::Ctx ctx_;
  reactor::UniqueFd fd_;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
};

TEST(ServerTlsReload, NewHandshakesGetTheNewCertificateLiveConnectionsStay) {
  char dir_template[] = "/tmp/reactord-tls-reload-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  reactord::test_support::Pki pki;
  auto first_key = reactord::test_support::make_key();
  auto first = reactord::test_support::make_cert("first", first_key.get(), pki.ca.get(), pki.ca_key.get());
  const std::string cert_path = dir + "/cert.pem", key_path = dir + "/key.pem";
  write_file(cert_path, reactord::test_support::pem(first.get()));
  write_file(key_path, reactord::test_support::pem(first_key.get()));

  Config config = test_config();
  config.tls_listen = reactor::SocketAddress::ipv4_loopback(0);
  config.tls_cert = cert_path;
  config.tls_key = key_path;
  RunningServer rs(config);
  ASSERT_TRUE(rs.server.tls_listen_address());
  const reactor::SocketAddress tls_address = *rs.server.tls_listen_address();

  TlsClient before(tls_address, pki.ca.get());
  ASSERT_TRUE(before.connected());
  EXPECT_EQ(before.server_cn(), "first");
  EXPECT_EQ(before.read(config.greeting.size()), config.greeting);

  auto second_key = reactord::test_support::make_key();
  auto second = reactord::test_support::make_cert("second", second_key.get(), pki.ca.get(), pki.ca_key.get());
  write_file(cert_path, reactord::test_support::pem(second.get()));
  write_file(key_path, reactord::test_support::pem(second_key.get()));
  std::string error;
  ASSERT_TRUE(rs.server.reload_tls(&error)) << error;

  TlsClient after(tls_address, pki.ca.get());
  ASSERT_TRUE(after.connected());
  EXPECT_EQ(after.server_cn(), "second");
  EXPECT_EQ(after.read(config.greeting.size()), config.greeting);
  // The client from before the reload keeps its session: still echoed.
  ASSERT_TRUE(before.write("still here\n"));
  EXPECT_EQ(before.read(11), "still here\n");

  // A bad file keeps the certificate in force and names the flag.
  write_file(cert_path, "garbage\n");
  EXPECT_FALSE(rs.server.reload_tls(&error));
  EXPECT_NE(error.find("--tls-cert " + cert_path), std::string::npos) << error;
  TlsClient later(tls_address, pki.ca.get());
  ASSERT_TRUE(later.connected());
  EXPECT_EQ(later.server_cn(), "second");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace reactord::test_support
