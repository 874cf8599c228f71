// H2Guard: the control port's HTTP/2 front. gRPC 1.51 (Debian 12) parses a client's frames
// with no bound on rapid reset, CONTINUATION or PING floods, so reactord accepts control
// connections itself and puts its own limits in front of gRPC's transport:
//
//   client ──TCP──> [guard: H2FrameCheck on every client frame header, bounded relay] ──socketpair──> gRPC
//
// One dedicated thread runs its own EventBase (one base per thread; other threads only post()).
// Per client: a socketpair, one end handed to gRPC (grpc::AddInsecureChannelFromFd, through the
// hand_off callback), bytes relayed both ways. A client that breaks a bound gets a GOAWAY
// (ENHANCE_YOUR_CALM, FRAME_SIZE_ERROR or PROTOCOL_ERROR) and is closed, counted by reason.
// Backpressure: while more than relay_buffer_bytes wait for the client (it does not read), or
// for gRPC, the guard stops reading from the client, so gRPC never piles up PING ACKs or
// responses for it. Connections are bounded in total and per client address.
//
// TLS (--control-tls-cert/-key[/-client-ca]): the guard terminates TLS itself with reactor_tls'
// TlsBufferEvent (the context from tls_context(), taken at each accept, so a reload's new
// certificate serves the next handshake), checks the plaintext frames the same way, and hands
// gRPC its end of the socketpair only once the handshake is done (a scanner or a stalled
// handshake never reaches gRPC; handshakes are bounded in time). With client certificates the
// verified common name goes with the hand-off (gRPC sees plaintext: no auth context).
// No gRPC in here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "h2_frame_check.h"
#include "server/h2_guard/h2_guard_counters.h"
#include "server/h2_guard/h2_guard_limits.h"
#include "reactor/socket_address.h"
#include "reactor/unique_fd.h"

typedef struct ssl_ctx_st SSL_CTX;  // NOLINT: OpenSSL's own typedef

namespace reactord::h2guard {

using reactord::H2GuardCounters;
using TlsContextPtr = std::shared_ptr<SSL_CTX>;

class H2Guard {
 public:
  // Gives gRPC its end of a new connection's socketpair; `peer` is the client (gRPC's form,
  // "ipv4:127.0.0.1:5678"), `certificate` the common name of its verified client certificate
  // (mTLS; empty otherwise). Runs on the guard's thread.
  using GrpcEnd = reactor::UniqueFd;
  using HandOff =
      std::function<void(GrpcEnd grpc_end, const std::string& peer, const std::string& certificate)>;
  // The TLS context for the next handshake (any thread; called on the guard's). Empty function:
  // the control port is plaintext.
  using TlsContextSource = std::function<TlsContextPtr()>;

  H2Guard(H2GuardLimits limits, HandOff hand_off, H2GuardCounters* counters, TlsContextSource tls = {});
  ~H2Guard();
  H2Guard(const H2Guard&) = delete;
  H2Guard& operator=(const H2Guard&) = delete;

  // Binds `address`, starts the guard's thread and accepting. Throws std::system_error when
  // the address cannot be bound. Main thread.
  void start(const reactor::SocketAddress& address);
  // The bound port (after start). Any thread.
  std::uint16_t port() const { return port_.load(); }
  // Stops accepting (connections open stay relayed: gRPC's shutdown reaches them). Any thread.
  void stop_accepting();
  // Closes every connection and ends the thread. Main thread.
  void stop();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace reactord::h2guard
