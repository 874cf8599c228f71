// TlsBufferEvent (reactor_tls) over socketpairs: both sides ours, and ours against a raw
// OpenSSL peer stepped by the test. Handshake and session info, byte-exact bulk transfer,
// watermarks on the plaintext side, handshake timeout, TLS errors with OpenSSL's reason,
// close_notify on a graceful close and none on an abortive one, a peer's close_notify,
// renegotiation refused. Both backends (Epoll / Poll).
#include "reactor/tls_buffer_event.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>

#include "net_test_support.h"
#include "reactor/buffer_event.h"
#include "reactor/unique_fd.h"
#include "tls_test_support.h"

namespace {

using namespace reactor;
using namespace std::chrono_literals;
using reactord::test_support::run_until;

struct Fds {
  UniqueFd a;
  UniqueFd b;
};

Fds socket_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// What one side's callbacks saw.
struct Seen {
  std::string data;
  BevFlags what{};
  int error = 0;
  std::string reason;
  int connected = 0;
  int writes = 0;
  bool drain = true;  // the read callback drains the input
};

void watch(TlsBufferEvent& tls, Seen& seen) {
  tls.setcb(
      [&seen](TlsBufferEvent& t) {
        if (!seen.drain) return;
        seen.data += t.input().to_string();
        t.input().drain(t.input().length());
      },
      [&seen](TlsBufferEvent&) { ++seen.writes; },
      [&seen](TlsBufferEvent&, BevFlags what, int error, std::string_view reason) {
        if (any(what & kBevConnected)) {
          ++seen.connected;
          return;
        }
        seen.what |= what;
        seen.error = error;
        seen.reason = std::string(reason);
      });
}

// A raw OpenSSL client on a non-blocking socket.
struct RawPeer {
  RawPeer(SSL_CTX* ctx, UniqueFd fd) : fd_(std::move(fd)), ssl(SSL_new(ctx)) {
    SSL_set_fd(ssl, fd_.get());
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, "localhost");
  }
  ~RawPeer() { SSL_free(ssl); }
  // One non-blocking handshake step: true when done.
  bool handshake() { return SSL_do_handshake(ssl) == 1; }
  // Reads what is there; returns the SSL_get_error of the last call.
  int read_some() {
    char buf[16384];
    for (;;) {
      std::size_t n = 0;
      ERR_clear_error();
      const int r = SSL_read_ex(ssl, buf, sizeof buf, &n);
      if (r == 1) {
        got.append(buf, n);
        continue;
      }
      return last = SSL_get_error(ssl, r);
    }
  }
  UniqueFd fd_;
  SSL* ssl;
  std::string got;
  int last = 0;
};

class TlsBufferEventTest : public reactord::test_support::BackendTest {
 protected:
  TlsBufferEventTest()
      : server_ctx_(reactord::test_support::server_ctx(pki_.server.get(), pki_.server_key.get())) {}

  // Our server side over fd (accepting), reading enabled.
  std::unique_ptr<TlsBufferEvent> ours_accepting(UniqueFd fd, SSL_CTX* ctx = nullptr) {
    auto under = std::make_unique<BufferEvent>(base_, fd.release(), kBevOptCloseOnFree);
    auto tls = std::make_unique<TlsBufferEvent>(std::move(under), SSL_new(ctx ? ctx : server_ctx_.get()),
                                                TlsRole::kAccepting);
    tls->enable(kRead);
    return tls;
  }
  std::unique_ptr<TlsBufferEvent> ours_connecting(UniqueFd fd, SSL_CTX* ctx, const char* sni = "localhost") {
    SSL* ssl = SSL_new(ctx);
    SSL_set_tlsext_host_name(ssl, sni);
    SSL_set1_host(ssl, "localhost");
    auto under = std::make_unique<BufferEvent>(base_, fd.release(), kBevOptCloseOnFree);
    auto tls = std::make_unique<TlsBufferEvent>(std::move(under), ssl, TlsRole::kConnecting);
    tls->enable(kRead);
    return tls;
  }

  // Our two sides over a socket pair, both reading and each watched into its Seen: `server`
  // accepting (with `server_ctx`, else the fixture's certificate), `client` connecting with
  // `client_ctx`.
  void connect_ours(std::unique_ptr<TlsBufferEvent>& server, Seen& s, std::unique_ptr<TlsBufferEvent>& client,
                    Seen& c, SSL_CTX* client_ctx, SSL_CTX* server_ctx = nullptr) {
    auto fds = socket_pair();
    server = ours_accepting(std::move(fds.a), server_ctx);
    client = ours_connecting(std::move(fds.b), client_ctx);
    watch(*server, s);
    watch(*client, c);
  }

  // Steps the loop and `drive` (a raw peer's non-blocking work) until done(), bounded.
  bool run_with(const std::function<void()>& drive, const std::function<bool()>& done, int raw_fd) {
    const auto limit = std::chrono::steady_clock::now() + 10s;
    for (int i = 0; i < 100000 && std::chrono::steady_clock::now() < limit; ++i) {
      reactord::test_support::step(base_, 1);
      drive();
      if (done()) return true;
      pollfd p{raw_fd, POLLIN, 0};
      ::poll(&p, 1, 1);
    }
    return done();
  }
  // The raw peer's handshake with our side, driven to its end (bounded).
  bool handshake_raw(RawPeer& peer) {
    return run_with([&] { peer.handshake(); }, [&] { return SSL_is_init_finished(peer.ssl) == 1; },
                    peer.fd_.get());
  }

  reactord::test_support::Pki pki_;
  reactord::test_support::Ctx server_ctx_;
};

TEST_P(TlsBufferEventTest, BothSidesOursHandshakeEchoAndSessionInfo) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  auto client = ours_connecting(std::move(fds.b), client_ctx.get(), "echo.example");
  Seen s, c;
  server->setcb([](TlsBufferEvent& t) { t.write_buffer(t.input()); }, {},
                [&s](TlsBufferEvent&, BevFlags what, int, std::string_view) {
                  if (any(what & kBevConnected)) ++s.connected;
                });
  watch(*client, c);
  client->write("hello over TLS");  // queued until the handshake is done
  ASSERT_TRUE(run_until(base_, [&] { return c.data == "hello over TLS"; }));
  EXPECT_EQ(s.connected, 1);
  EXPECT_EQ(c.connected, 1);
  EXPECT_TRUE(server->handshake_done());
  const TlsInfo info = server->info();
  EXPECT_EQ(info.version, "TLSv1.3");
  EXPECT_FALSE(info.cipher.empty());
  EXPECT_EQ(info.sni, "echo.example");
  EXPECT_TRUE(info.peer_subject.empty());  // no client certificate asked
  EXPECT_FALSE(info.ktls_send);            // a filter's BIO is no socket: never kTLS
  EXPECT_EQ(client->info().peer_subject, "CN=localhost,O=reactord tests");
  EXPECT_EQ(server->plaintext_read(), 14u);
  EXPECT_EQ(server->plaintext_written(), 14u);
  EXPECT_GT(server->underlying().bytes_read(), 14u);  // ciphertext, with the handshake
}

TEST_P(TlsBufferEventTest, ClientCertificateSubjectIsShown) {
  auto client_key = reactord::test_support::make_key();
  auto client_cert =
      reactord::test_support::make_cert("alice", client_key.get(), pki_.ca.get(), pki_.ca_key.get());
  auto mtls_ctx = reactord::test_support::server_ctx(pki_.server.get(), pki_.server_key.get(), pki_.ca.get());
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get(), client_cert.get(), client_key.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get(), mtls_ctx.get());
  client->write("x");
  ASSERT_TRUE(run_until(base_, [&] { return s.data == "x"; }));
  EXPECT_EQ(server->info().peer_subject, "CN=alice,O=reactord tests");
}

TEST_P(TlsBufferEventTest, MissingClientCertificateFailsWithReason) {
  auto mtls_ctx = reactord::test_support::server_ctx(pki_.server.get(), pki_.server_key.get(), pki_.ca.get());
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get(), mtls_ctx.get());
  ASSERT_TRUE(run_until(base_, [&] { return any(s.what & kBevError); }));
  EXPECT_EQ(s.error, EPROTO);
  EXPECT_NE(s.reason.find("certificate"), std::string::npos) << s.reason;
  EXPECT_EQ(s.connected, 0);
  EXPECT_NE(server->last_error(), 0u);
}

TEST_P(TlsBufferEventTest, WrongCaIsReportedWithOpenSslReason) {
  reactord::test_support::Pki other("another CA");  // did not sign the server's certificate
  auto client_ctx = reactord::test_support::client_ctx(other.ca.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get());
  ASSERT_TRUE(run_until(base_, [&] { return any(c.what & kBevError) && any(s.what & kBevError); }));
  EXPECT_EQ(c.reason, "certificate verify failed");
  EXPECT_NE(s.reason.find("unknown ca"), std::string::npos) << s.reason;  // the client's alert
}

TEST_P(TlsBufferEventTest, ExpiredServerCertificateIsRefused) {
  auto key = reactord::test_support::make_key();
  auto expired = reactord::test_support::make_cert("localhost", key.get(), pki_.ca.get(), pki_.ca_key.get(),
                                                   false, -30, -1);
  auto ctx = reactord::test_support::server_ctx(expired.get(), key.get());
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get(), ctx.get());
  ASSERT_TRUE(run_until(base_, [&] { return any(c.what & kBevError); }));
  EXPECT_EQ(c.reason, "certificate verify failed");
  EXPECT_EQ(SSL_get_verify_result(client->ssl()), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_P(TlsBufferEventTest, PlaintextPeerGetsAnErrorWithReason) {
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  reactord::test_support::Peer peer(base_, std::move(fds.b));
  peer.start_reading();
  Seen s;
  watch(*server, s);
  ASSERT_EQ(peer.send("GET / HTTP/1.0\r\n\r\n"), 18u);
  ASSERT_TRUE(run_until(base_, [&] { return any(s.what & kBevError); }));
  EXPECT_EQ(s.error, EPROTO);
  EXPECT_FALSE(s.reason.empty());
  EXPECT_EQ(s.connected, 0);
  EXPECT_TRUE(s.data.empty());
}

TEST_P(TlsBufferEventTest, StalledHandshakeTimesOut) {
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  server->set_handshake_timeout(50ms);
  Seen s;
  watch(*server, s);
  // The peer sends half a client hello, then nothing.
  ASSERT_EQ(::send(fds.b.get(), "\x16\x03\x01\x02\x00\x01", 6, 0), 6);
  ASSERT_TRUE(run_until(base_, [&] { return any(s.what); }));
  EXPECT_EQ(s.what, kBevTimeout | kBevError);
  EXPECT_EQ(s.error, ETIMEDOUT);
  EXPECT_EQ(server->last_error_reason(), "TLS handshake timed out");
  EXPECT_FALSE(server->handshake_done());
}

TEST_P(TlsBufferEventTest, SixteenMegabytesByteExactWithPlaintextWatermarks) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  auto client = ours_connecting(std::move(fds.b), client_ctx.get());
  std::string payload(16 << 20, '\0');
  std::mt19937 rng(17);
  for (auto& ch : payload) ch = static_cast<char>(rng());
  Seen s;
  watch(*server, s);
  s.drain = false;  // first the receiver does not read: backpressure
  server->set_read_watermarks(0, 64 * 1024);
  client->write(payload);
  ASSERT_TRUE(run_until(base_, [&] { return server->input().length() >= 64 * 1024; }));
  reactord::test_support::step(base_, 50);
  // Decryption stopped at the high watermark, the sender's plaintext waits in its output.
  EXPECT_LE(server->input().length(), 64u * 1024 + 16 * 1024);
  EXPECT_GT(client->output().length(), 0u);
  s.drain = true;
  s.data = server->input().to_string();
  server->input().drain(server->input().length());  // resumes reading
  ASSERT_TRUE(run_until(
      base_, [&] { return s.data.size() >= payload.size(); }, 60s, 2000000));
  EXPECT_TRUE(s.data == payload);
  EXPECT_EQ(client->plaintext_written(), payload.size());
}

TEST_P(TlsBufferEventTest, WriteCallbackAtTheLowWatermark) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get());
  ASSERT_TRUE(run_until(base_, [&] { return c.connected == 1; }));
  client->write(std::string(4 << 20, 'w'));  // more than the ciphertext backlog
  EXPECT_GT(client->output().length(), 0u);
  ASSERT_TRUE(run_until(
      base_, [&] { return c.writes > 0; }, 30s));
  EXPECT_TRUE(client->output().empty());
  ASSERT_TRUE(run_until(
      base_, [&] { return s.data.size() == (4u << 20); }, 30s));
}

TEST_P(TlsBufferEventTest, AgainstRawOpenSslPeerGracefulCloseSendsCloseNotify) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  Seen s;
  server->setcb([](TlsBufferEvent& t) { t.write_buffer(t.input()); }, {},
                [&s](TlsBufferEvent&, BevFlags what, int, std::string_view) { s.what |= what; });
  RawPeer peer(client_ctx.get(), std::move(fds.b));
  const int raw = peer.fd_.get();
  ASSERT_TRUE(handshake_raw(peer));
  ASSERT_EQ(SSL_write(peer.ssl, "ping", 4), 4);
  ASSERT_TRUE(run_with([&] { peer.read_some(); }, [&] { return peer.got == "ping"; }, raw));
  bool done = false, clean = false;
  server->close_gracefully(5s, [&](bool c) {
    done = true;
    clean = c;
  });
  ASSERT_TRUE(run_with([&] { peer.read_some(); }, [&] { return peer.last == SSL_ERROR_ZERO_RETURN; }, raw));
  ::shutdown(raw, SHUT_WR);  // the peer's EOF ends our linger
  ASSERT_TRUE(run_until(base_, [&] { return done; }));
  EXPECT_TRUE(clean);
  EXPECT_TRUE(server->closed());
}

TEST_P(TlsBufferEventTest, AbortiveCloseSendsNoCloseNotify) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  RawPeer peer(client_ctx.get(), std::move(fds.b));
  const int raw = peer.fd_.get();
  ASSERT_TRUE(handshake_raw(peer));
  server->close_abortively();
  EXPECT_TRUE(server->closed());
  ASSERT_TRUE(run_with([&] { peer.read_some(); }, [&] { return peer.last != SSL_ERROR_WANT_READ; }, raw));
  EXPECT_NE(peer.last, SSL_ERROR_ZERO_RETURN);  // EOF without close_notify
}

TEST_P(TlsBufferEventTest, PeerCloseNotifyWithSocketLeftOpenIsEof) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  Seen s;
  watch(*server, s);
  RawPeer peer(client_ctx.get(), std::move(fds.b));
  ASSERT_TRUE(handshake_raw(peer));
  ASSERT_EQ(SSL_write(peer.ssl, "last words", 10), 10);
  SSL_shutdown(peer.ssl);  // close_notify; the socket stays open
  ASSERT_TRUE(run_until(base_, [&] { return any(s.what & kBevEof); }));
  EXPECT_EQ(s.data, "last words");
  EXPECT_EQ(s.reason, "close_notify");
  bool done = false;
  server->close_gracefully(5s, [&](bool) { done = true; });
  ASSERT_TRUE(run_until(base_, [&] { return done; }));  // within the linger, peer still open
  EXPECT_TRUE(server->closed());
}

TEST_P(TlsBufferEventTest, RenegotiationIsRefused) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  SSL_CTX_set_max_proto_version(client_ctx.get(), TLS1_2_VERSION);
  auto fds = socket_pair();
  auto server = ours_accepting(std::move(fds.a));
  Seen s;
  watch(*server, s);
  RawPeer peer(client_ctx.get(), std::move(fds.b));
  const int raw = peer.fd_.get();
  ASSERT_TRUE(handshake_raw(peer));
  EXPECT_EQ(server->info().version, "TLSv1.2");
  ASSERT_EQ(SSL_renegotiate(peer.ssl), 1);
  int hs = 0;
  ASSERT_TRUE(run_with(
      [&] {
        ERR_clear_error();
        hs = SSL_do_handshake(peer.ssl);
      },
      [&] { return hs == 1 || SSL_get_error(peer.ssl, hs) == SSL_ERROR_SSL; }, raw));
  EXPECT_NE(hs, 1);  // the renegotiation never completes
  EXPECT_EQ(SSL_get_error(peer.ssl, hs), SSL_ERROR_SSL);
  EXPECT_EQ(SSL_num_renegotiations(peer.ssl), 1);  // requested once, refused
}

TEST_P(TlsBufferEventTest, ReadTimeoutKeepsItsMeaning) {
  auto client_ctx = reactord::test_support::client_ctx(pki_.ca.get());
  std::unique_ptr<TlsBufferEvent> server, client;
  Seen s, c;
  connect_ours(server, s, client, c, client_ctx.get());
  ASSERT_TRUE(run_until(base_, [&] { return s.connected == 1 && c.connected == 1; }));
  server->set_timeouts(50ms, std::nullopt);
  ASSERT_TRUE(run_until(base_, [&] { return any(s.what); }));
  EXPECT_EQ(s.what, kBevTimeout | kBevReading);
  EXPECT_EQ(server->enabled() & kRead, EventFlags{});
}

REACTORD_BACKEND_SUITE(TlsBufferEventTest);

}  // namespace
