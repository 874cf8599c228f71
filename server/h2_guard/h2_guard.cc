#include "h2_guard.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/listener.h"
#include "reactor/tls_buffer_event.h"
#include "server/thread_name.h"

namespace reactord::h2guard {

namespace {

using reactor::BevFlags;
using reactor::BufferEvent;

// A graceful close of a guarded connection waits this long at most for its output to leave.
constexpr reactor::Duration kCloseDeadline = std::chrono::seconds(2);

struct Peer {
  Peer(const H2GuardLimits& limits, reactor::TimePoint now)
      : rst(limits.rst_burst, limits.rst_per_second, now) {}
  std::size_t connections = 0;
  TokenBucket rst;  // RST_STREAM frames of all its connections
};

// The pair that joins a guarded connection to gRPC, made through syscall(2) rather than glibc's
// socketpair(). Same call, same result; the difference is for ThreadSanitizer, which tracks an
// fd from the interceptor that made it to the one that closes it. gRPC closes its end inside
// libgrpc, whose calls tests/tsan.supp hides from TSan (called_from_lib), so that close was never
// seen: when a loop's accept4 later got the freed number, TSan took it for a race with this
// socketpair (reactord died under TSan at fd exhaustion, where numbers are reused at once).
// Untracked from the start, the pair leaves no record for a reuse to race with; our end's reads,
// writes and close are still seen.
int untracked_socketpair(int pair[2]) {
  return static_cast<int>(
      ::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair));
}

std::atomic<std::uint64_t>* counter_for(H2GuardCounters& c, const char* reason) {
  const std::string_view r(reason);
  if (r == "frame_size") return &c.frame_size;
  if (r == "header_block") return &c.header_block;
  if (r == "rst_rate") return &c.rst_rate;
  if (r == "ping_rate") return &c.ping_rate;
  if (r == "settings_rate") return &c.settings_rate;
  if (r == "streams") return &c.streams;
  return &c.protocol;
}

// The client's side of a relay: the TCP socket's BufferEvent, or a TLS session over it
// (reactor_tls' filter), behind one set of calls. Loop thread only.
class ClientEnd {
 public:
  using Data = std::function<void()>;
  // connected: the TLS handshake is done; otherwise the side ended (EOF, error, timeout).
  using Ended = std::function<void(bool connected, std::string_view reason)>;

  ClientEnd(reactor::EventBase& base, reactor::UniqueFd fd, SSL* ssl) {
    auto bev = std::make_unique<BufferEvent>(base, fd.release(), reactor::kBevOptCloseOnFree);
    if (ssl == nullptr) {
      plain_ = std::move(bev);
    } else {
      tls_ = std::make_unique<reactor::TlsBufferEvent>(std::move(bev), ssl, reactor::TlsRole::kAccepting);
    }
  }

  void setcb(Data on_read, Data on_write, Ended on_event) {
    if (plain_) {
      plain_->setcb([r = std::move(on_read)](BufferEvent&) { r(); },
                    [w = std::move(on_write)](BufferEvent&) { w(); },
                    [e = std::move(on_event)](BufferEvent&, BevFlags, int) { e(false, {}); });
      return;
    }
    tls_->setcb(
        [r = std::move(on_read)](reactor::TlsBufferEvent&) { r(); },
        [w = std::move(on_write)](reactor::TlsBufferEvent&) { w(); },
        [e = std::move(on_event)](reactor::TlsBufferEvent&, BevFlags what, int, std::string_view reason) {
          e(any(what & reactor::kBevConnected), reason);
        });
  }
  bool tls() const { return tls_ != nullptr; }
  reactor::TlsBufferEvent& session() { return *tls_; }
  reactor::Buffer& input() { return plain_ ? plain_->input() : tls_->input(); }
  reactor::Buffer& output() { return plain_ ? plain_->output() : tls_->output(); }
  void write(std::string_view bytes) { plain_ ? plain_->write(bytes) : tls_->write(bytes); }
  void write_buffer(reactor::Buffer& data) { plain_ ? plain_->write_buffer(data) : tls_->write_buffer(data); }
  reactor::EventFlags enabled() const { return plain_ ? plain_->enabled() : tls_->enabled(); }
  void enable(reactor::EventFlags what) { plain_ ? plain_->enable(what) : tls_->enable(what); }
  void disable(reactor::EventFlags what) { plain_ ? plain_->disable(what) : tls_->disable(what); }
  void set_write_low_watermark(std::size_t low) {
    plain_ ? plain_->set_write_low_watermark(low) : tls_->set_write_low_watermark(low);
  }
  void close_gracefully(reactor::Duration deadline, std::function<void(bool)> done) {
    plain_ ? plain_->close_gracefully(deadline, std::move(done))
           : tls_->close_gracefully(deadline, std::move(done));
  }
  void close_abortively() { plain_ ? plain_->close_abortively() : tls_->close_abortively(); }
  bool closed() const { return plain_ ? plain_->closed() : tls_->closed(); }

 private:
  std::unique_ptr<BufferEvent> plain_;
  std::unique_ptr<reactor::TlsBufferEvent> tls_;
};

// The common name of the verified client certificate of a finished handshake; empty without.
std::string verified_common_name(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  char name[256] = {};
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
  return n > 0 ? std::string(name, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

class H2Guard::Loop {
 public:
  class Relay;

  Loop(H2GuardLimits l, HandOff h, H2GuardCounters* c, TlsContextSource t)
      : limits(l), hand_off(std::move(h)), tls_context(std::move(t)), counters(c ? c : &own_counters) {}

  // The thread's body: binds, reports the port (or the bind error), runs until stop().
  void run(const reactor::SocketAddress& address, std::promise<std::uint16_t>& bound);
  void on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& peer);
  // A relay whose both sides are closed: destroyed at the end of this iteration. Loop thread.
  void finished(Relay* relay);
  // Runs fn on the guard's thread if it still runs. Any thread.
  void post(std::function<void()> fn) {
    std::lock_guard lock(mutex);
    if (base) base->post(std::move(fn));
  }
  void exit() {
    std::lock_guard lock(mutex);
    if (base) base->loopexit();
  }
  void log_violation(const std::string& peer, const H2Violation& v);

  H2GuardLimits limits;
  HandOff hand_off;
  TlsContextSource tls_context;  // empty: plaintext
  H2GuardCounters own_counters;
  H2GuardCounters* counters;
  std::thread thread;
  std::mutex mutex;                    // guards `base` for other threads
  reactor::EventBase* base = nullptr;  // set while the thread's loop runs
  std::unique_ptr<reactor::Listener> listener;
  std::unordered_map<std::string, Peer> peers;  // by client host; references stay valid
  std::unordered_map<Relay*, std::unique_ptr<Relay>> relays;
  // Violations are logged at most once a second (an attacker reconnecting must not flood the
  // log); the metrics count every one.
  reactor::TimePoint last_log{};
  std::uint64_t unlogged = 0;
};

// One client connection and its socketpair to gRPC. Loop thread only.
class H2Guard::Loop::Relay {
 public:
  // `ssl`: the TLS session to accept on the client socket (taken), or nullptr for plaintext.
  // gRPC gets `grpc_end` at once (plaintext) or once the handshake is done (TLS).
  Relay(Loop& loop, reactor::UniqueFd client, SSL* ssl, reactor::UniqueFd upstream,
        reactor::UniqueFd grpc_end, Peer& peer, std::string name)
      : loop_(loop),
        peer_(peer),
        name_(std::move(name)),
        client_(*loop.base, std::move(client), ssl),
        upstream_(*loop.base, upstream.release(), reactor::kBevOptCloseOnFree),
        grpc_end_(std::move(grpc_end)),
        check_(loop.limits.frames, loop.base->now()) {
    const std::size_t low = loop.limits.relay_buffer_bytes / 2;
    client_.set_write_low_watermark(low);
    upstream_.set_write_low_watermark(low);
    client_.setcb([this] { on_client_read(); }, [this] { update_flow(); },
                  [this](bool connected, std::string_view reason) {
                    if (connected) return on_handshake_done();
                    on_end(/*from_client=*/true, reason);
                  });
    upstream_.setcb([this](BufferEvent&) { on_upstream_read(); }, [this](BufferEvent&) { update_flow(); },
                    [this](BufferEvent&, BevFlags, int) { on_end(/*from_client=*/false, {}); });
    if (client_.tls()) {
      client_.session().set_handshake_timeout(loop.limits.tls_handshake_timeout);
    } else {
      hand_off({});
    }
    client_.enable(reactor::kRead);
    upstream_.enable(reactor::kRead);
  }

  ~Relay() {
    --peer_.connections;
    loop_.counters->open.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  static void drop_input(reactor::Buffer& in) { in.drain(in.length()); }

  void on_client_read() {
    reactor::Buffer& in = client_.input();
    if (ended_) return drop_input(client_.input());
    const reactor::TimePoint now = loop_.base->now();
    for (auto span : in.peek()) {
      auto v = check_.feed(reinterpret_cast<const std::uint8_t*>(span.data()), span.size(), now, peer_.rst);
      if (v) return violate(*v);
    }
    upstream_.write_buffer(in);
    update_flow();
  }

  void on_upstream_read() {
    reactor::Buffer& in = upstream_.input();
    if (ended_) return drop_input(upstream_.input());
    for (auto span : in.peek()) {
      server_frames_.feed(reinterpret_cast<const std::uint8_t*>(span.data()), span.size(), &check_);
    }
    // Frames up to what gRPC advertised are the client's right (it raises the size with BDP).
    check_.allow_frames_up_to(server_frames_.max_frame_bytes());
    client_.write_buffer(in);
    update_flow();
  }

  // Backpressure: a client that does not read (its output above the bound) or a gRPC that
  // does not keep up is not read from; gRPC is not read from while the client is behind.
  void update_flow() {
    if (ended_) return;
    const std::size_t bound = loop_.limits.relay_buffer_bytes;
    const bool client_behind = client_.output().length() > bound;
    const bool grpc_behind = upstream_.output().length() > bound;
    if (set_reading(client_, !client_behind && !grpc_behind)) {
      loop_.counters->backpressure_pauses.fetch_add(1, std::memory_order_relaxed);
    }
    set_reading(upstream_, !client_behind);
  }

  // True when reading was just paused.
  template <typename Side>
  static bool set_reading(Side& bev, bool on) {
    const bool reading = reactor::any(bev.enabled() & reactor::kRead);
    if (on && !reading) bev.enable(reactor::kRead);
    if (!on && reading) bev.disable(reactor::kRead);
    return !on && reading;
  }

  void violate(const H2Violation& v) {
    counter_for(*loop_.counters, v.reason)->fetch_add(1, std::memory_order_relaxed);
    loop_.log_violation(name_, v);
    drop_input(client_.input());
    // Our GOAWAY only between two whole frames of gRPC's: otherwise the client would misparse it.
    if (server_frames_.at_boundary()) client_.write(goaway_frame(check_.last_stream_id(), v.code, v.detail));
    end(/*client_gone=*/false);
  }

  // gRPC gets its end of the socketpair (and the client's name and certificate). Once.
  void hand_off(const std::string& certificate) {
    if (!grpc_end_.valid()) return;
    loop_.counters->accepted.fetch_add(1, std::memory_order_relaxed);
    loop_.hand_off(std::move(grpc_end_), name_, certificate);
  }

  void on_handshake_done() {
    if (ended_) return;
    hand_off(verified_common_name(client_.session().ssl()));
  }

  // EOF, error or timeout: the side is gone either way. A TLS client gone before its
  // handshake finished never reached gRPC: counted, logged at debug (scanners are common).
  void on_end(bool from_client, std::string_view reason) {
    if (from_client && grpc_end_.valid() && !ended_) {
      loop_.counters->rejected_tls.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("control port: TLS handshake with {} failed: {}", name_,
                    reason.empty() ? std::string_view("closed") : reason);
    }
    end(from_client);
  }

  // Ends both sides: what is queued for the client still goes out (gRPC's GOAWAY or ours),
  // within kCloseDeadline; gRPC sees its socket close and cancels the connection's calls.
  void end(bool client_gone) {
    if (ended_) return;
    ended_ = true;
    if (client_gone) {
      client_.close_abortively();
    } else {
      client_.close_gracefully(kCloseDeadline, [this](bool) { maybe_finished(); });
    }
    upstream_.close_abortively();
    maybe_finished();
  }

  void maybe_finished() {
    if (client_.closed() && upstream_.closed() && !finished_) {
      finished_ = true;
      loop_.finished(this);
    }
  }

  Loop& loop_;
  Peer& peer_;
  std::string name_;
  ClientEnd client_;
  BufferEvent upstream_;
  reactor::UniqueFd grpc_end_;  // gRPC's end until it is handed off
  H2FrameCheck check_;
  H2FrameBoundary server_frames_;
  bool ended_ = false;
  bool finished_ = false;
};

void H2Guard::Loop::run(const reactor::SocketAddress& address, std::promise<std::uint16_t>& bound) {
  reactor::EventBase event_base;
  try {
    listener = std::make_unique<reactor::Listener>(
        event_base, address, reactor::kLevOptReuseable, -1,
        [this](reactor::UniqueFd fd, const reactor::SocketAddress& peer) { on_accept(std::move(fd), peer); });
  } catch (...) {
    bound.set_exception(std::current_exception());
    return;
  }
  listener->set_error_callback([](int error) {
    spdlog::warn("control port: accept failed: {} (the connection was shed)", std::strerror(error));
  });
  // Forget client addresses with no connection whose RST_STREAM budget has refilled.
  reactor::Event prune(event_base, -1, reactor::kPersist, [this, &event_base](int, reactor::EventFlags) {
    for (auto it = peers.begin(); it != peers.end();) {
      it = it->second.connections == 0 && it->second.rst.full(event_base.now()) ? peers.erase(it)
                                                                                : std::next(it);
    }
  });
  prune.add(std::chrono::seconds(10));
  {
    std::lock_guard lock(mutex);
    base = &event_base;
  }
  bound.set_value(listener->local_address().port());
  event_base.loop(reactor::kLoopNoExitOnEmpty);
  {
    std::lock_guard lock(mutex);
    base = nullptr;
  }
  listener.reset();
  relays.clear();  // sockets closed: gRPC's side sees EOF (peers outlive them: Loop's member)
}

void H2Guard::Loop::on_accept(reactor::UniqueFd fd, const reactor::SocketAddress& address) {
  Peer& peer = peers.try_emplace(address.host(), limits, base->now()).first->second;
  if (relays.size() >= limits.max_connections || peer.connections >= limits.max_connections_per_peer) {
    counters->rejected_limit.fetch_add(1, std::memory_order_relaxed);
    return;  // closed: a client at a bound gets no HTTP/2 at all
  }
  SSL* ssl = nullptr;
  if (tls_context) {
    TlsContextPtr context = tls_context();
    ssl = context ? SSL_new(context.get()) : nullptr;  // holds its own reference to the context
    if (ssl == nullptr) {
      counters->rejected_error.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  int pair[2];
  if (untracked_socketpair(pair) != 0) {
    counters->rejected_error.fetch_add(1, std::memory_order_relaxed);
    SSL_free(ssl);
    return;
  }
  reactor::UniqueFd ours(pair[0]);
  reactor::UniqueFd theirs(pair[1]);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // gRPC sets it on its own
  std::string name = (address.is_ipv6() ? "ipv6:" : "ipv4:") + address.to_string();
  ++peer.connections;
  counters->open.fetch_add(1, std::memory_order_relaxed);
  auto relay =
      std::make_unique<Relay>(*this, std::move(fd), ssl, std::move(ours), std::move(theirs), peer, name);
  relays.emplace(relay.get(), std::move(relay));
}

void H2Guard::Loop::finished(Relay* relay) {
  auto it = relays.find(relay);
  if (it == relays.end()) return;
  base->defer_delete(std::move(it->second));
  relays.erase(it);
}

void H2Guard::Loop::log_violation(const std::string& peer, const H2Violation& v) {
  const reactor::TimePoint now = base->now();
  if (now - last_log < std::chrono::seconds(1)) {
    ++unlogged;
    return;
  }
  last_log = now;
  spdlog::warn("control port: {} broke an HTTP/2 bound ({}: {}); GOAWAY and closed{}", peer, v.reason,
               v.detail,
               unlogged ? fmt::format(" ({} more since the last such line)", unlogged) : std::string());
  unlogged = 0;
}

H2Guard::H2Guard(H2GuardLimits limits, HandOff hand_off, H2GuardCounters* counters, TlsContextSource tls)
    : loop_(std::make_unique<Loop>(limits, std::move(hand_off), counters, std::move(tls))) {}

H2Guard::~H2Guard() { stop(); }

void H2Guard::start(const reactor::SocketAddress& address) {
  std::promise<std::uint16_t> bound;
  auto port = bound.get_future();
  loop_->thread = std::thread([this, address, &bound] {
    name_this_thread("h2-guard");
    loop_->run(address, bound);
  });
  try {
    port_.store(port.get());
  } catch (...) {
    loop_->thread.join();
    throw;
  }
}

void H2Guard::stop_accepting() {
  loop_->post([loop = loop_.get()] { loop->listener.reset(); });
}

void H2Guard::stop() {
  loop_->exit();
  if (loop_->thread.joinable()) loop_->thread.join();
}

}  // namespace reactord::h2guard
