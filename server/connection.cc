#include "server/connection.h"
#include "server/rate_limits.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "reactor/event_base.h"
#include "server/config.h"
#include "server/connection_side_tables.h"
#include "server/idle_tracker.h"
#include "server/loop_counters.h"
#include "server/wall_clock.h"

namespace reactord {

namespace {

// A graceful close without the operator's deadline ends when nothing moved either way for
// --idle-timeout; with the idle timeout off, for this long.
constexpr reactor::Duration kCloseStallWithoutIdleTimeout = std::chrono::seconds(60);

// Bytes the kernel still holds for the peer (unsent or unacknowledged); -1 if it cannot say.
int kernel_send_queue(int fd) {
  int queued = 0;
  if (fd < 0 || ::ioctl(fd, SIOCOUTQ, &queued) != 0) return -1;
  return queued;
}

}  // namespace

// The socket's callbacks, one object for every Connection: it holds nothing, the BufferEvent
// it is called for is the Connection's own base. So a Connection carries no vtable pointer of
// its own (8 bytes per connection, issue #19).
struct Connection::Callbacks final : reactor::BufferEventHandler {
  void on_read(reactor::BufferEvent& bev) override { of(bev).on_read(bev); }
  void on_write(reactor::BufferEvent& bev) override { of(bev).on_write(bev); }
  void on_event(reactor::BufferEvent& bev, reactor::BevFlags what, int error) override {
    of(bev).on_event(bev, what, error);
  }
};

constinit Connection::Callbacks Connection::callbacks_;

ConnectionContext& Connection::context() const {
  return *static_cast<ConnectionContext*>(bev().base().user_data());
}

Connection::Connection(ConnectionContext& context, reactor::EventBase& base, std::uint64_t id,
                       reactor::UniqueFd fd, const reactor::SocketAddress& peer)
    : reactor::BufferEvent(base, fd.get(), reactor::kBevOptCloseOnFree) {
  fd.release();  // the BufferEvent owns it now
  // The context is the loop's, found through the base (context()): one per base.
  if (base.user_data() == nullptr) base.set_user_data(&context);
  if (base.user_data() != &context) throw std::logic_error("an EventBase serves one ConnectionContext");
  bev().set_owner(id);  // the id, kept once: id() reads it back
  if (peer.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer.get());
    std::memcpy(peer_addr_, &in6->sin6_addr, sizeof(in6->sin6_addr));
    peer_port_ = in6->sin6_port;
    peer_v6_ = true;
    if (in6->sin6_scope_id != 0) side_state().peer_scope_id = in6->sin6_scope_id;
  } else if (peer.family() == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(peer.get());
    std::memcpy(peer_addr_, &in4->sin_addr, sizeof(in4->sin_addr));
    peer_port_ = in4->sin_port;
    peer_v4_ = true;
  }
}

ConnectionSideState& Connection::side_state() {
  ConnectionSideState& s = context().side_tables.side_state(id());
  has_side_state_ = true;
  return s;
}

Connection::Connection(ConnectionContext& context, reactor::EventBase& base, std::uint64_t id,
                       reactor::UniqueFd fd, const reactor::SocketAddress& peer, SSL* ssl)
    : Connection(context, base, id, std::move(fd), peer) {
  tls_ = true;
  context.side_tables.attach_tls(
      this->id(), std::make_unique<reactor::TlsBufferEvent>(bev(), ssl, reactor::TlsRole::kAccepting));
}

reactor::TlsBufferEvent* Connection::tls() const {
  return tls_ ? context().side_tables.tls_session(id()) : nullptr;
}

reactor::Buffer& Connection::plain_input() {
  reactor::TlsBufferEvent* t = tls();
  return t != nullptr ? t->input() : bev().input();
}

reactor::Buffer& Connection::plain_output() {
  reactor::TlsBufferEvent* t = tls();
  return t != nullptr ? t->output() : bev().output();
}

void Connection::plain_write_buffer(reactor::Buffer& data) {
  if (reactor::TlsBufferEvent* t = tls()) {
    t->write_buffer(data);
  } else {
    bev().write_buffer(data);
  }
}

void Connection::plain_enable_read(bool on) {
  reactor::TlsBufferEvent* t = tls();
  if (t != nullptr) {
    on ? t->enable(reactor::kRead) : t->disable(reactor::kRead);
  } else {
    on ? bev().enable(reactor::kRead) : bev().disable(reactor::kRead);
  }
}

// An idle connection is this object, its BufferEvent's state and a registry entry. 56 bytes
// is one 64-byte malloc chunk; a field more costs 16 (issue #19).
static_assert(sizeof(Connection) <= 56, "Connection grew past its budget");
// The state (its life: open, draining, closing) and the close reason are 2- and 3-bit fields.
static_assert(static_cast<unsigned>(kLastStoredConnectionState) < 4 && kCloseReasonCount <= 8);

Connection::~Connection() {
  if (idle_linked() && context().idle != nullptr) context().idle->remove(*this);
  if (has_side_state_) context().side_tables.drop_side_state(id());
  if (tls_) context().side_tables.drop_tls(id());  // before our BufferEvent, which it filters
}

void Connection::start() {
  if (reactor::TlsBufferEvent* t = tls()) {
    // The greeting waits in the filter until the handshake is done.
    t->set_handshake_timeout(context().config.tls_handshake_timeout);
    set_callbacks(/*with_write=*/false);
    t->set_write_low_watermark(context().config.max_output_buffer / 2);
    if (!context().config.greeting.empty()) t->write(context().config.greeting);
    t->enable(reactor::kRead);
    if (IdleTracker* idle = context().idle) idle->touch(*this);
    return;
  }
  set_callbacks(/*with_write=*/false);
  if (!context().config.greeting.empty()) bev().write(context().config.greeting);
  bev().enable(reactor::kRead);
  if (IdleTracker* idle = context().idle) idle->touch(*this);
}

// The write callback is installed only while reading is paused: a BufferEvent with a write
// callback queues it after every send that empties the output, and that queue costs memory
// (and a deferred event) on every connection.
void Connection::set_callbacks(bool with_write) {
  if (reactor::TlsBufferEvent* t = tls()) {
    reactor::TlsBufferEvent::DataCallback write_cb;
    if (with_write) write_cb = [this](reactor::TlsBufferEvent&) { on_write(bev()); };
    t->setcb([this](reactor::TlsBufferEvent&) { on_read(bev()); }, std::move(write_cb),
             [this](reactor::TlsBufferEvent&, reactor::BevFlags what, int error, std::string_view reason) {
               on_tls_event(what, error, reason);
             });
    return;
  }
  bev().setcb(&callbacks_, reactor::kBevCbRead | reactor::kBevCbEvent |
                               (with_write ? reactor::kBevCbWrite : reactor::BevCallbacks{0}));
}

void Connection::on_read(reactor::BufferEvent&) {
  try {
    echo();
  } catch (const std::bad_alloc&) {
    // Out of memory while echoing (an event or a block): this client pays, not the loop.
    close(CloseReason::kNoMemory, /*graceful=*/false);
  }
}

void Connection::echo() {
  reactor::Buffer& input = plain_input();
  const std::size_t n = input.length();
  if (n == 0) return;
  ConnectionContext& ctx = context();  // once: it is a look-up through the base
  LoopCounters& counters = ctx.counters;
  counters.bytes_in.add(n);
  // The echo: no byte is copied. The socket's BufferEvent sends straight from the input and
  // moves to the output only what the socket did not take (write_buffer).
  reactor::Buffer& output = plain_output();
  plain_write_buffer(input);
  account_written(counters);  // not through context() again: a look-up through the base
  if (IdleTracker* idle = ctx.idle) idle->touch(*this);  // O(1): a move to the list's tail
  if (!reading_paused_ && output.length() >= ctx.config.max_output_buffer) {
    // Backpressure: the client does not read its echo. Stop reading until it does, so what it
    // keeps sending waits in the kernel (and then in the client), not in our memory.
    plain_enable_read(false);
    // The write callback only matters while reading is paused: it says the client has read
    // enough of its echo (the output is down to half the limit) to resume. Set here, not at
    // start: a watermark costs the BufferEvent its Extras, and most connections never pause.
    // A TLS client's watermark is the filter's (set at start); the socket BufferEvent's belongs
    // to the filter's cipher backlog and must not be overwritten (the 64 MiB TLS echo stalled).
    if (!tls_) bev().set_write_low_watermark(ctx.config.max_output_buffer / 2);
    set_callbacks(/*with_write=*/true);
    reading_paused_ = true;
    counters.backpressure_pauses.add();
    ctx.owner.on_connection_state_changed(*this);
  }
}

void Connection::on_write(reactor::BufferEvent&) {
  account_written();
  if (!reading_paused_ || closing_) return;
  if (plain_output().length() <= context().config.max_output_buffer / 2) {
    reading_paused_ = false;
    set_callbacks(/*with_write=*/false);
    try {
      plain_enable_read(true);
    } catch (const std::system_error&) {
      // The kernel refused to watch the socket again (epoll_ctl: ENOSPC, ENOMEM): this client
      // is closed; the exception must not leave the loop (it would end it, and every client).
      close(CloseReason::kError, /*graceful=*/false);
      return;
    }
    context().owner.on_connection_state_changed(*this);
  }
}

void Connection::on_event(reactor::BufferEvent&, reactor::BevFlags what, int error) {
  account_written();
  if (any(what & reactor::kBevEof)) {
    close(CloseReason::kPeerEof, /*graceful=*/true);  // send what is still owed, then FIN
  } else if (any(what & reactor::kBevError)) {
    // ENOMEM: a buffer for this client could not be allocated (see Buffer::read_from).
    close(error == ENOMEM ? CloseReason::kNoMemory : CloseReason::kError, /*graceful=*/false);
  }
}

void Connection::count_handshake(TlsHandshakeResult result) {
  if (handshake_counted_) return;
  handshake_counted_ = true;
  LoopCounters& counters = context().counters;
  counters.tls_handshakes[static_cast<std::size_t>(result)].add();
  if (result == TlsHandshakeResult::kOk) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(tls()->handshake_duration()).count();
    counters.record_tls_handshake(static_cast<std::uint64_t>(us));
  }
}

void Connection::on_tls_event(reactor::BevFlags what, int error, std::string_view reason) {
  account_written();
  reactor::TlsBufferEvent* t = tls();
  if (any(what & reactor::kBevConnected)) {
    count_handshake(TlsHandshakeResult::kOk);
    context().owner.on_connection_state_changed(*this);  // watchers see the version, cipher, SNI
    return;
  }
  if (t != nullptr && !t->handshake_done()) {
    TlsHandshakeResult result = TlsHandshakeResult::kFailed;
    if (any(what & reactor::kBevTimeout)) {
      result = TlsHandshakeResult::kTimeout;
    } else if (any(what & reactor::kBevEof) || error != EPROTO) {
      result = TlsHandshakeResult::kClosed;
    }
    count_handshake(result);
    spdlog::debug("loop {}: connection {}: TLS handshake {}: {}", context().loop_index, id(),
                  to_string(result), reason);
  }
  if (any(what & reactor::kBevEof) && !any(what & reactor::kBevError)) {
    close(CloseReason::kPeerEof, /*graceful=*/true);  // send what is still owed, close_notify, FIN
  } else {
    // Gracefully: the alert OpenSSL queued (unknown CA, protocol version...) reaches the client
    // before our FIN; a reset could destroy it.
    close(error == ENOMEM ? CloseReason::kNoMemory : CloseReason::kError, /*graceful=*/true);
  }
}

void Connection::on_idle() {
  if (closing_) return;
  // Progress either way is activity. Output sent since the last touch means the client is
  // still reading a long echo (the echo sent by the read that touched it carries the same
  // time); so do acknowledgements of what the kernel still held for it — a long echo can
  // sit in the socket buffers (megabytes on loopback) with no send of ours for seconds.
  // One ioctl per expiry, none per byte. A backlog seen for the first time earns one more
  // period (no baseline yet); after that only acknowledged bytes do.
  bool acked_more = false;
  if (const int queued = kernel_send_queue(bev().fd()); queued >= 0) {
    const auto acked = static_cast<std::uint32_t>(bev().bytes_written() - static_cast<std::uint64_t>(queued));
    // Only a backlog seen before has a baseline (kept in the loop's side state).
    const bool moved = kernel_backlog_at_idle_check_ && acked != side_state().acked_at_idle_check;
    acked_more = queued > 0 ? (!kernel_backlog_at_idle_check_ || moved) : moved;
    if (queued > 0) side_state().acked_at_idle_check = acked;
    kernel_backlog_at_idle_check_ = queued > 0;
  }
  if (bev().last_write_at() > idle_since || acked_more) {
    context().idle->touch(*this);
    return;
  }
  close(CloseReason::kIdleTimeout, /*graceful=*/true);
}

void Connection::close(CloseReason reason, bool graceful, std::optional<reactor::Duration> deadline) {
  if (finished_) return;
  if (closing_) {
    if (!graceful) {  // upgrade a slow graceful close to a reset
      if (reactor::TlsBufferEvent* t = tls()) {
        t->close_abortively();
      } else {
        bev().close_abortively();
      }
      finish(close_reason());
    }
    return;
  }
  closing_ = true;
  set_close_reason(reason);
  if (idle_linked()) context().idle->remove(*this);
  set_state(ConnectionState::kClosing);
  if (reactor::TlsBufferEvent* t = tls()) {
    if (!t->handshake_done()) count_handshake(TlsHandshakeResult::kClosed);
    if (graceful && !t->closed()) {
      const reactor::Duration idle = context().config.idle_timeout;
      t->close_gracefully(deadline           ? *deadline
                          : idle.count() > 0 ? idle
                                             : kCloseStallWithoutIdleTimeout,
                          [this](bool) { finish(close_reason()); });
    } else {
      if (!t->closed()) t->close_abortively();
      finish(reason);
    }
    return;
  }
  if (graceful && !bev().closed()) {
    auto done = [this](bool) { finish(close_reason()); };
    if (deadline) {
      bev().close_gracefully(*deadline, std::move(done));
    } else {
      const reactor::Duration idle = context().config.idle_timeout;
      bev().close_gracefully_unless_stalled(idle.count() > 0 ? idle : kCloseStallWithoutIdleTimeout,
                                            std::move(done));
    }
  } else {
    if (!bev().closed()) bev().close_abortively();
    finish(reason);
  }
}

void Connection::finish(CloseReason reason) {
  if (finished_) return;
  finished_ = true;
  account_written();
  context().owner.on_connection_closed(*this, reason);  // may hand us to defer_delete
}

void Connection::close_for_shutdown() {
  if (finished_) return;
  closing_ = true;
  set_close_reason(CloseReason::kShutdown);
  if (idle_linked()) context().idle->remove(*this);
  finish(CloseReason::kShutdown);
}

void Connection::set_draining(bool draining) {
  if (closing_) return;
  const ConnectionState next = draining ? ConnectionState::kDraining : ConnectionState::kOpen;
  if (next != state()) set_state(next);
}

void Connection::set_state(ConnectionState state) {
  state_ = static_cast<std::uint16_t>(state) & 3u;
  context().owner.on_connection_state_changed(*this);
}

void Connection::account_written() { account_written(context().counters); }

void Connection::account_written(LoopCounters& counters) {
  // Modulo 2^32: right while less than 4 GiB was written since the last call (see the field).
  const auto written = static_cast<std::uint32_t>(bev().bytes_written());
  const std::uint32_t fresh = written - bytes_out_counted_;
  if (fresh != 0) {
    counters.bytes_out.add(fresh);
    bytes_out_counted_ = written;
  }
}

std::size_t Connection::buffered_in() const {
  return const_cast<Connection*>(this)->plain_input().length();  // input() is not const
}

std::size_t Connection::buffered_out() const {
  return const_cast<Connection*>(this)->plain_output().length();
}

reactor::SocketAddress Connection::local_address() const {
  const int fd = bev().fd();
  return fd >= 0 ? reactor::SocketAddress::local_of(fd) : context().listen_address;
}

ConnectionRecord Connection::record() const { return record(RecordParts{}); }

ConnectionRecord Connection::record(RecordParts parts) const {
  ConnectionRecord r;
  r.id = id();
  if (peer_v6_) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    std::memcpy(&a.sin6_addr, peer_addr_, sizeof(a.sin6_addr));
    a.sin6_port = peer_port_;
    if (has_side_state_) a.sin6_scope_id = context().side_tables.side_state(id()).peer_scope_id;
    r.peer = reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = peer_v4_ ? AF_INET : AF_UNSPEC;
    std::memcpy(&a.sin_addr, peer_addr_, sizeof(a.sin_addr));
    a.sin_port = peer_port_;
    r.peer = reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  }
  if (parts.local_address) r.local = local_address();
  r.loop = context().loop_index;
  r.state = state();
  r.reading_paused = reading_paused_;
  if (reading_paused_ && r.state == ConnectionState::kOpen) r.state = ConnectionState::kReadPaused;
  r.bytes_in = bev().bytes_read();
  r.bytes_out = bev().bytes_written();
  r.bytes_buffered_in = buffered_in();
  r.bytes_buffered_out = buffered_out();
  if (reactor::TlsBufferEvent* t = tls()) {
    ConnectionRecord::Tls info;
    info.handshake_done = t->handshake_done();
    if (info.handshake_done) {
      reactor::TlsInfo session = t->info();
      info.version = std::move(session.version);
      info.cipher = std::move(session.cipher);
      info.sni = std::move(session.sni);
      info.peer_subject = std::move(session.peer_subject);
      info.alpn = std::move(session.alpn);
      info.ktls = session.ktls_send || session.ktls_recv;
    }
    r.tls = std::move(info);
  }
  r.created = bev().created_at();
  r.last_activity = std::max({r.created, bev().last_read_at(), bev().last_write_at()});
  if (parts.created_wall) {
    r.created_wall = SteadyToWall()(r.created);
  }
  r.read_event_id = bev().read_event_id();
  r.write_event_id = bev().write_event_id();
  // The loop's idle sweep timer: shared by the loop's connections, it fires for the one that
  // has been idle longest.
  if (idle_linked()) {
    r.idle_timer_event_id = context().idle->timer().id();
    r.idle_deadline = context().idle->deadline_of(*this);
  }
  if (auto limit = bev().rate_limit()) {
    const units::Rate rate = to_rate(*limit);
    r.rate_limit_bytes_per_second = rate.bytes_per_second;
    r.rate_limit_burst = rate.burst;
  }
  r.rate_limit_total = bev().rate_limit_group() != nullptr;
  r.throttled = bev().read_throttled() || bev().write_throttled();
  r.throttled_time = bev().throttled_time();
  r.bytes_delayed = bev().bytes_delayed();
  if (finished_) r.mark_closed(close_reason());
  return r;
}

}  // namespace reactord
