// BufferEvent: libevent's bufferevent_socket. A non-blocking socket with an input and an output
// Buffer, read/write callbacks with watermarks, timeouts, and graceful or abortive close.
//
// Write path: write() appends to the output and, when the output was empty, tries the send
// at once; write interest is armed only while output remains (libevent always defers to the
// next iteration, costing an epoll_ctl pair and an iteration per echo).
//
// Thread rule: loop thread only, for every method (the loop of the EventBase given at
// construction). Destroy it outside its own callbacks: from a callback, hand it to
// EventBase::defer_delete.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "reactor/buffer.h"
#include "reactor/buffer_event_front.h"
#include "reactor/clock.h"
#include "reactor/event.h"
#include "reactor/flag_set.h"
#include "reactor/rate_limit.h"
#include "reactor/socket_address.h"

namespace reactor {

class EventBase;

// What happened, for the event callback (BEV_EVENT_*, same values). A typed set of its own
// (flag_set.h): where EventFlags belong a BevFlags does not compile, nor the other way round
// (BEV_EVENT_READING is EV_TIMEOUT's bit in libevent, where both are plain integers).
enum class BevFlags : std::uint16_t {
  kBevReading = 0x01,    // BEV_EVENT_READING: during a read
  kBevWriting = 0x02,    // BEV_EVENT_WRITING: during a write
  kBevEof = 0x10,        // BEV_EVENT_EOF
  kBevError = 0x20,      // BEV_EVENT_ERROR (see error argument)
  kBevTimeout = 0x40,    // BEV_EVENT_TIMEOUT
  kBevConnected = 0x80,  // BEV_EVENT_CONNECTED
};
template <>
inline constexpr bool kIsFlagSet<BevFlags> = true;
using enum BevFlags;  // kBevEof … unqualified, as libevent's BEV_EVENT_EOF …

// Options at creation (BEV_OPT_*).
using BevOptions = unsigned;
inline constexpr BevOptions kBevOptCloseOnFree = 0x01;     // BEV_OPT_CLOSE_ON_FREE
inline constexpr BevOptions kBevOptDeferCallbacks = 0x04;  // BEV_OPT_DEFER_CALLBACKS

class BufferEvent;

// Which callbacks of a BufferEventHandler are set (the non-null arguments of
// bufferevent_setcb). A typed set of its own (flag_set.h); BevCallbacks{} is none.
enum class BevCallbacks : std::uint8_t {
  kBevCbRead = 0x01,
  kBevCbWrite = 0x02,
  kBevCbEvent = 0x04,
};
template <>
inline constexpr bool kIsFlagSet<BevCallbacks> = true;
using enum BevCallbacks;

// The three callbacks as one interface: bufferevent_setcb(bev, readcb, writecb, eventcb,
// cbarg) with the object as cbarg. A BufferEvent then holds one pointer instead of three
// std::function (96 bytes): what a server with many connections wants. The handler must
// outlive the BufferEvent, or be replaced first.
class BufferEventHandler {
 public:
  virtual void on_read(BufferEvent& bev) = 0;
  virtual void on_write(BufferEvent& bev) = 0;
  virtual void on_event(BufferEvent& bev, BevFlags what, int error) = 0;

 protected:
  ~BufferEventHandler() = default;
};

// A graceful close that has sent everything and its FIN waits this long at most for the
// peer's EOF (lingering close), then closes normally: the kernel still delivers the bytes.
inline constexpr Duration kCloseLinger = std::chrono::seconds(2);

// The bufferevent calls it shares with TlsBufferEvent (enable, disable, write, write_buffer,
// input, output, flush_output, the watermarks) are its BufferEventFront's
// (buffer_event_front.h): write() appends to the output and, when the output was empty, tries
// the send at once; the read high watermark stops reading from the socket.
class BufferEvent : public BufferEventFront<BufferEvent> {
 public:
  using DataCallback = std::function<void(BufferEvent&)>;
  // what: kBevEof / kBevError / kBevTimeout / kBevConnected, with kBevReading / kBevWriting;
  // error: the errno for kBevError, 0 otherwise.
  using EventCallback = std::function<void(BufferEvent&, BevFlags what, int error)>;

  // bufferevent_socket_new(base, fd, options). fd = -1: no socket yet, use connect().
  // The fd is made non-blocking. Reading starts disabled, writing enabled (as in libevent):
  // call enable(kRead). Loop thread only.
  BufferEvent(EventBase& base, int fd, BevOptions options = 0);
  // bufferevent_free: with kBevOptCloseOnFree the socket is closed (abruptly if output is
  // still pending; use close_gracefully for a clean end). Loop thread only.
  ~BufferEvent();
  BufferEvent(const BufferEvent&) = delete;
  BufferEvent& operator=(const BufferEvent&) = delete;

  // bufferevent_socket_connect: starts a non-blocking connect (creating the socket if fd was
  // -1); the event callback gets kBevConnected or kBevError (e.g. ECONNREFUSED). Returns false
  // with errno when the connect fails at once. Loop thread only.
  bool connect(const SocketAddress& address);

  // bufferevent_setcb. Empty functions remove a callback. Loop thread only.
  void setcb(DataCallback read_cb, DataCallback write_cb, EventCallback event_cb);
  // bufferevent_setcb with an object: `which` says which of its callbacks are set (a write
  // callback makes every send that reaches the write low watermark queue a call). nullptr
  // removes all. Replaces callbacks set either way, also from inside one. Loop thread only.
  void setcb(BufferEventHandler* handler, BevCallbacks which);

  // The watermarks as set_read_watermarks / set_write_low_watermark (the front's) left them.
  // Loop thread only.
  std::size_t read_low_watermark() const;
  std::size_t read_high_watermark() const;
  std::size_t write_low_watermark() const;
  // True while reading is suspended because the input reached the high watermark.
  bool read_suspended_by_watermark() const;

  // bufferevent_set_timeouts: kBevTimeout|kBevReading when no data arrived for `read` while
  // reading is enabled; kBevTimeout|kBevWriting when pending output made no progress for
  // `write`. nullopt clears. The event callback runs and the direction is disabled (as in
  // libevent). Loop thread only.
  void set_timeouts(std::optional<Duration> read, std::optional<Duration> write);

  // Graceful close: stop reading, send what is in the output, shutdown(SHUT_WR), then close
  // when the peer's EOF arrives (or kCloseLinger after the FIN, whichever comes first). Every
  // queued byte is sent before the FIN, however long that takes, until `deadline`. At the deadline: if the
  // output was all handed to the kernel (FIN queued behind it), the socket is closed normally — the kernel
  // still delivers it, nothing is reset; otherwise the close turns abortive (RST, pending output discarded).
  // `done` runs once when the socket is closed (true = everything sent with a FIN, false = aborted). A second
  // call while closing changes nothing (the first deadline stands). Loop thread only.
  void close_gracefully(Duration deadline, std::function<void(bool clean)> done = {});
  // The same close, bounded by progress instead of a fixed time: the deadline is `stall`
  // after the last byte moved either way (sent, or read and discarded while waiting for the
  // peer's EOF) — a slow reader that keeps reading is never cut off. Loop thread only.
  void close_gracefully_unless_stalled(Duration stall, std::function<void(bool clean)> done = {});
  // Abortive close: SO_LINGER 0 then close, so the peer sees a reset. Pending output is
  // discarded. Loop thread only.
  void close_abortively();
  bool closed() const;

  // bufferevent_getfd (-1 once closed). Loop thread only.
  int fd() const;
  EventBase& base() const;

  // Counters for the connection registry and metrics.
  std::uint64_t bytes_read() const;
  std::uint64_t bytes_written() const;
  TimePoint created_at() const;
  TimePoint last_read_at() const;
  TimePoint last_write_at() const;

  // ---- Rate limits (rate_limit.h; libevent's bufferevent_ratelim.c) ----
  // bufferevent_set_rate_limit: a token bucket of this BufferEvent's own. A first limit starts
  // with one tick's worth of tokens; replacing one keeps the tokens, clipped to the new burst;
  // nullopt removes it (a direction it suspended resumes). Returns false, changing nothing,
  // for an invalid config or a closed BufferEvent. Loop thread only.
  bool set_rate_limit(const std::optional<TokenBucketConfig>& cfg);
  std::optional<TokenBucketConfig> rate_limit() const;
  // bufferevent_add_to_rate_limit_group / bufferevent_remove_from_rate_limit_group. In one
  // group at a time (adding moves it); the group must use the same EventBase
  // (std::logic_error otherwise). Closing or destroying the BufferEvent leaves the group. Loop
  // thread only.
  void add_to_rate_limit_group(RateLimitGroup& group);
  void remove_from_rate_limit_group();
  RateLimitGroup* rate_limit_group() const;
  // bufferevent_get_read_limit / get_write_limit: the own bucket's tokens (as of its last
  // update; may be negative after decrement_*), INT64_MAX without a bucket. Loop thread only.
  std::int64_t read_limit() const;
  std::int64_t write_limit() const;
  // bufferevent_get_max_to_read / get_max_to_write: the most the next read / send may move
  // (own bucket, group share, the per-call chunk). Loop thread only.
  std::size_t max_to_read() const;
  std::size_t max_to_write() const;
  // bufferevent_decrement_read_limit / decrement_write_limit: take (or, negative, give back)
  // tokens of the own bucket, suspending or resuming as libevent does. False without a bucket.
  // Loop thread only.
  bool decrement_read_limit(std::int64_t bytes);
  bool decrement_write_limit(std::int64_t bytes);
  // Whether a direction is suspended by a limit now (own bucket or group), the total time
  // spent with at least one direction suspended (the current stretch included), and the bytes
  // whose transfer waited for tokens (each read or send that followed a suspension). Loop
  // thread only.
  bool read_throttled() const;
  bool write_throttled() const;
  Duration throttled_time() const;
  std::uint64_t bytes_delayed() const;

  // Owner tag put on this BufferEvent's events, shown by EventBase::snapshot(); also their
  // ids, for the registry: 0 while the event does not exist (the read event exists with the
  // socket; the write event from the first time output had to wait for the socket). Loop
  // thread only.
  void set_owner(std::uint64_t owner);
  std::uint64_t owner() const;
  std::uint64_t read_event_id() const;
  std::uint64_t write_event_id() const;

  // The state (src/buffer_event_impl.h); named here so the library's rate-limit groups can
  // refer to their members. Not for users.
  struct Impl;

 private:
  friend class BufferEventFront<BufferEvent>;  // its definitions use impl_

  std::unique_ptr<Impl> impl_;
};

// One pointer, as before the front (an empty base): issue #19 counts bytes per idle connection.
static_assert(sizeof(BufferEvent) == sizeof(void*));

// Defined in buffer_event.cc (src/buffer_event_front_impl.h).
extern template class BufferEventFront<BufferEvent>;

}  // namespace reactor
