// BufferEvent::Impl: the state behind a BufferEvent, shared by buffer_event.cc (public API),
// buffer_event_io.cc (read, write, connect, callbacks) and buffer_event_close.cc.
//
// Memory: an idle connection is the Impl (two empty Buffers, the callbacks' handler, owner,
// counters) with its read event in place — an IoEvent, an fd event without a timer part: 168 bytes, one
// glibc chunk of 176. Everything rarely needed — the write Event (from the first time output cannot be sent
// at once), std::function callbacks, watermarks, timeouts and the read timeout's timer, the deferred-callback
// event, the graceful-close timer and its done callback — lives in Extras, allocated on first use.
//
// Re-entrancy: user callbacks run only from event handlers (never from inside an API call),
// each as the last thing its handler does or followed by a re-check of `state`; they run from
// a local copy (swapped out) so setcb() inside a callback never destroys the running function.
#pragma once

#include <cerrno>
#include <cstddef>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "buffer_internals.h"
#include "io_event.h"
#include "split_counter.h"
#include "reactor/buffer.h"
#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"

namespace reactor {

struct BufferEventRateLimit;

// setcb() with std::functions: a handler that holds them, created on first use and kept until
// the BufferEvent dies, so that a callback replacing the callbacks never destroys itself.
// Each runs from a local: if it calls setcb(), the function being run is not the one
// destroyed; if it did not, it goes back in place afterwards.
class FunctionHandler final : public BufferEventHandler {
 public:
  void set(BufferEvent::DataCallback read, BufferEvent::DataCallback write, BufferEvent::EventCallback event);
  void on_read(BufferEvent& bev) override;
  void on_write(BufferEvent& bev) override;
  void on_event(BufferEvent& bev, BevFlags what, int error) override;

 private:
  // Runs the function in `slot` from a local, and puts it back unless set() ran meanwhile.
  template <typename Fn, typename... Args>
  void run(Fn& slot, Args&&... args) {
    if (!slot) return;
    Fn cb;
    cb.swap(slot);
    const std::uint8_t generation = generation_;
    cb(std::forward<Args>(args)...);
    if (generation == generation_) cb.swap(slot);
  }

  BufferEvent::DataCallback read_;
  BufferEvent::DataCallback write_;
  BufferEvent::EventCallback event_;
  std::uint8_t generation_ = 0;  // bumped by set(): a running callback knows it was replaced
};

struct BufferEvent::Impl {
  // Bytes read per readiness: large enough for bulk transfers, small enough that one busy
  // connection does not hold the loop for long.
  static constexpr std::size_t kReadChunk = 64 * 1024;
  // Bytes handed to one sendmsg: about what a loopback or LAN socket buffer takes at once.
  static constexpr std::size_t kSendChunk = 256 * 1024;

  // Bits of `state`.
  enum : std::uint16_t {
    kConnecting = 1 << 0,    // non-blocking connect in progress (write event armed for it)
    kSocketClosed = 1 << 1,  // socket closed (by close_gracefully or close_abortively)
    kClosing = 1 << 2,       // graceful close in progress
    kSuspended = 1 << 3,     // reading stopped: input reached the read high watermark
    kShutWr = 1 << 4,        // graceful close: output flushed and shutdown(SHUT_WR) done
    kPeerEof = 1 << 5,       // graceful close: the peer's EOF arrived
    kLengthHook = 1 << 6,    // input's length callback installed (to resume after suspension)
    kWriteArmed = 1 << 7,    // write event pending
    kOwnFd = 1 << 8,         // connect() created the socket: close it on destruction
    // Rate limits (rate_limit.h). kRateLimited is the one bit the I/O paths test: without a
    // limit, reading and writing cost one predictable branch each and nothing else.
    kRateLimited = 1 << 9,      // a bucket or a group applies (Extras::rate_limit)
    kReadThrottled = 1 << 10,   // reading suspended until tokens come back
    kWriteThrottled = 1 << 11,  // writing suspended until tokens come back
    // Memory (issue #19): what used to be fields of their own.
    kReadEv = 1 << 12,              // the read Event is constructed in read_storage
    kCloseOnFree = 1 << 13,         // kBevOptCloseOnFree
    kDeferCallbacks = 1 << 14,      // kBevOptDeferCallbacks
    kHandlerIsFunctions = 1 << 15,  // handler is our FunctionHandler (setcb with functions)
    kKeptOnClose = kLengthHook | kOwnFd | kReadEv | kCloseOnFree | kDeferCallbacks | kHandlerIsFunctions,
  };

  // Rarely used state, allocated on first use.
  struct Extras {
    std::unique_ptr<Event> write_ev;             // from the first time output had to wait
    std::unique_ptr<FunctionHandler> functions;  // parked while an object handler is set
    std::uint32_t read_low = 0;                  // watermarks (0: none)
    std::uint32_t read_high = 0;
    std::uint32_t write_low = 0;
    std::uint32_t bytes_read_high = 0;  // the byte counters' high 32 bits (see count())
    std::uint32_t bytes_written_high = 0;
    std::optional<Duration> read_timeout;
    std::optional<Duration> write_timeout;
    // The read timeout's timer ("bev.read_timeout"): armed with the read event, restarted at
    // each of its activations (what a kPersist event with a timeout does), removed with it.
    // The read event itself has no timer part (32 bytes less per connection).
    std::unique_ptr<Event> read_timer;
    std::unique_ptr<Event> deferred;     // runs queued callbacks later in the iteration
    std::unique_ptr<Event> close_timer;  // graceful-close deadline
    std::function<void(bool)> close_done;
    // close_gracefully_unless_stalled: the deadline moves with progress (see on_close_timer).
    std::optional<Duration> close_stall;
    TimePoint close_started{};
    TimePoint close_deadline{};                        // close_gracefully's fixed deadline
    EventBase* base = nullptr;                         // the base while no read event exists yet (fd -1)
    BufferEvent* self = nullptr;                       // likewise, the owner of this state (see self())
    int pending_error = 0;                             // errno for the queued event callback
    int connect_error = 0;                             // immediate connect failure, reported from the loop
    BevFlags pending_what{};                           // queued event callback flags
    EventFlags pending_data{};                         // queued read (kRead) / write (kWrite) callbacks
    std::unique_ptr<BufferEventRateLimit> rate_limit;  // set_rate_limit / a group
  };

  Impl(BufferEvent& self, EventBase& base, int fd, BevOptions options);

  // The BufferEvent this state belongs to: the argument of its events' callbacks (the read
  // Event's once it exists, else Extras'), not a field of its own — 8 bytes per connection.
  BufferEvent& self() const {
    return *static_cast<BufferEvent*>(has_read_ev() ? read_ev().function_arg() : extras->self);
  }
  // Milliseconds from `from` to `to`, 0 if not after, saturated at 2^32 - 1. Inline: twice
  // per echoed message.
  static std::uint32_t ms_between(TimePoint from, TimePoint to) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
    if (ms <= 0) return 0;
    return static_cast<std::uint32_t>(std::min<long long>(ms, std::numeric_limits<std::uint32_t>::max()));
  }
  TimePoint last_read() const { return created + std::chrono::milliseconds(last_read_ms); }
  TimePoint last_write() const { return created + std::chrono::milliseconds(last_write_ms); }
  void mark_read(TimePoint now) { last_read_ms = ms_between(created, now); }
  void mark_write(TimePoint now) { last_write_ms = ms_between(created, now); }
  // Adds n (< 4 GiB: one read or send) to a byte counter, carrying into Extras. Inline: once
  // per read and per send; the carry (every 4 GiB) is out of line.
  void count_read(std::size_t n) { count(bytes_read_low, n, false); }
  void count_written(std::size_t n) { count(bytes_written_low, n, true); }
  void count(std::uint32_t& low, std::size_t n, bool written) {
    const std::uint32_t carry = detail::add_to_low_half(low, n);
    if (carry != 0) [[unlikely]]
      carry_into_extras(carry, written);
  }
  void carry_into_extras(std::uint32_t carry, bool written);
  std::uint64_t bytes_read() const {
    return detail::join_halves(extras ? extras->bytes_read_high : 0, bytes_read_low);
  }
  std::uint64_t bytes_written() const {
    return detail::join_halves(extras ? extras->bytes_written_high : 0, bytes_written_low);
  }
  ~Impl();

  Extras& extras_ref();
  // The read event knows the base; before the socket exists, Extras does (saves a pointer
  // in every connection).
  EventBase& base() const { return has_read_ev() ? read_ev().base() : *extras->base; }
  // The events' callbacks (Event's function-pointer form) and what inspection shows of them.
  static void read_cb(int fd, EventFlags fired, void* arg);
  static void read_timeout_cb(int fd, EventFlags fired, void* arg);
  static void write_cb(int fd, EventFlags fired, void* arg);
  static void deferred_cb(int fd, EventFlags fired, void* arg);
  static void close_timer_cb(int fd, EventFlags fired, void* arg);
  static void refill_cb(int fd, EventFlags fired, void* arg);  // rate limit's refill timer
  static detail::EventTag describe(EventFunction fn, const void* arg);
  void ensure_read_event();
  void ensure_write_event();

  // Interest.
  void arm_read();
  void disarm_read();  // the read event and its timeout's timer
  void arm_write();
  void disarm_write();
  void suspend_reading();
  void maybe_resume_reading();

  // I/O handlers (buffer_event_io.cc).
  void on_read(EventFlags fired);
  void on_write(EventFlags fired);
  void finish_connect();
  void write_now();
  // bufferevent_write_buffer: moves `data` to output and sends. With output empty and a send
  // allowed now (an echo, nearly always), it sends straight from `data` and moves only what
  // the socket did not take: no append into output and back out (issue #19). The bytes, the
  // counters, the timestamps and the write callback are what append + write_now gave; an
  // output with a length callback takes the general path, so that it sees every byte.
  void write_buffer(Buffer& data);
  // Whether output may go to the socket now (write_now's test): connected, not shut, no write
  // already waiting for room, not throttled, and writing enabled (or a graceful close flushing).
  bool can_write_now() const {
    return fd >= 0 && (state & (kSocketClosed | kConnecting | kWriteArmed | kWriteThrottled)) == 0 &&
           (any(enabled() & kWrite) || (state & kClosing) != 0);
  }
  // write_now's send and what follows it, from `from`: output, or write_buffer's data while
  // output is empty (what is left of it then moves to output).
  void send_now(Buffer& from);  // inline, below: the echo's path (write_buffer → send_now)
  // One send of what `from` holds (at most kSendChunk, or the rate limit's allowance), counted
  // and timed. Inline (issue #19): send_now and on_write each make it part of their own body,
  // one call fewer on every echo's send path (echo → write_buffer → send_now → write_to).
  // Buffer::write_to uses send/sendmsg with MSG_NOSIGNAL: a vanished peer is EPIPE, never
  // SIGPIPE.
  ssize_t send_some() { return send_some(output); }
  ssize_t send_some(Buffer& from) {
    std::size_t max = kSendChunk;
    if ((state & kRateLimited) != 0) {
      max = allowance(true, max);
      if (max == 0) {  // throttled: the write event is disarmed until tokens come back
        errno = EAGAIN;
        return -1;
      }
    }
    const ssize_t n = from.write_to(fd, max);
    if (n > 0) {
      count_written(static_cast<std::size_t>(n));
      mark_write(base().now());
      if ((state & kRateLimited) != 0) charge(true, static_cast<std::size_t>(n));
    }
    return n;
  }

  // Rate limits (buffer_event_rate_limit.cc). Called only when kRateLimited is set.
  BufferEventRateLimit& rate_limit_ref();
  std::size_t allowance(bool write, std::size_t max);  // 0: throttled now
  void charge(bool write, std::size_t bytes);
  void throttle(bool write, std::uint8_t why);
  void unthrottle(bool write, std::uint8_t why);
  void on_refill();
  void update_rate_limited_bit();
  void drop_rate_limit_on_close();

  // Callbacks, inline or deferred. run_read_cb and invoke_read are inline (below): every read
  // runs them.
  void run_read_cb();
  void run_write_cb();
  void report(BevFlags what, int error);
  void queue(EventFlags data, BevFlags what, int error);
  void on_deferred();
  void invoke_read();
  void invoke_write();
  void invoke_event(BevFlags what, int error);

  // Closing (buffer_event_close.cc).
  void start_graceful_close(Duration deadline, std::optional<Duration> stall, std::function<void(bool)> done);
  void on_close_timer();
  void closing_read();
  void closing_flushed();
  void finish_close(bool clean);
  void mark_closed();

  bool closed() const { return (state & kSocketClosed) != 0; }
  // The read event, constructed in place while kReadEv (an optional would cost a flag word: 8
  // bytes per connection).
  bool has_read_ev() const { return (state & kReadEv) != 0; }
  detail::IoEvent& read_ev() { return *std::launder(reinterpret_cast<detail::IoEvent*>(read_storage)); }
  const detail::IoEvent& read_ev() const {
    return *std::launder(reinterpret_cast<const detail::IoEvent*>(read_storage));
  }
  void destroy_read_ev();
  // The write Event (nullptr until output first had to wait) and the watermarks, in Extras.
  Event* write_ev() const { return extras ? extras->write_ev.get() : nullptr; }
  std::uint32_t read_low() const { return extras ? extras->read_low : 0; }
  std::uint32_t read_high() const { return extras ? extras->read_high : 0; }
  std::uint32_t write_low() const { return extras ? extras->write_low : 0; }
  EventFlags enabled() const { return static_cast<EventFlags>(enabled_bits); }
  void enabled_on(EventFlags what) { enabled_bits = static_cast<std::uint8_t>(bits(enabled() | what)); }
  void enabled_off(EventFlags what) { enabled_bits = static_cast<std::uint8_t>(bits(enabled() & ~what)); }
  // BufferEventFront's calls (buffer_event_front_impl.h; defined in buffer_event.cc).
  void enable(EventFlags what);
  void disable(EventFlags what);
  bool accepts_writes() const { return !closed() && (state & kShutWr) == 0; }
  void flush_output();
  void set_read_watermarks(std::size_t low, std::size_t high);
  void set_write_low_watermark(std::size_t low);
  bool user_callbacks_allowed() const { return (state & (kSocketClosed | kClosing)) == 0; }

  Buffer input;
  Buffer output;
  alignas(detail::IoEvent) unsigned char read_storage[sizeof(detail::IoEvent)];  // see read_ev()
  BufferEventHandler* handler = nullptr;                                         // the callbacks (see setcb)
  std::unique_ptr<Extras> extras;
  std::uint64_t owner = 0;  // set_owner: shown on every event of this BufferEvent
  // Bytes read / written: the low 32 bits here, the high ones in Extras from the first 4 GiB
  // on (8 bytes per connection less; see count()).
  std::uint32_t bytes_read_low = 0;
  std::uint32_t bytes_written_low = 0;
  TimePoint created;
  // Last read / last write in milliseconds after `created`, rounded down (saturating after
  // 49.7 days): 8 bytes instead of 16 per connection.
  std::uint32_t last_read_ms = 0;
  std::uint32_t last_write_ms = 0;
  int fd;
  std::uint16_t state = 0;
  // enable()'s kRead / kWrite, one byte (an EventFlags takes two; with fd, state and
  // callbacks the tail stays 8 bytes, issue #19's budget). As in libevent: writing on, reading
  // off.
  std::uint8_t enabled_bits = bits(kWrite);
  BevCallbacks callbacks{};  // which of handler's callbacks are set
};

// ---- Inline: what every echoed message runs (issue #19) ------------------------------------

inline void BufferEvent::Impl::write_buffer(Buffer& data) {
  if (!output.empty() || !can_write_now() || detail::BufferInternals::has_length_callback(output)) {
    output.append_buffer(data);
    write_now();
    return;
  }
  send_now(data);
}

inline void BufferEvent::Impl::send_now(Buffer& from) {
  // What output held before the send: `from` is output, or data bound for an empty output.
  const std::size_t before = from.length();
  const ssize_t n = send_some(from);
  if (&from != &output && !from.empty()) output.append_buffer(from);  // unsent: it waits in output
  if (n < 0) {
    // EAGAIN: wait for room. A real error: arm anyway, the write handler meets it again and
    // reports it from the loop (never from inside write()).
    arm_write();
    return;
  }
  if (!output.empty()) {
    arm_write();
    return;
  }
  if ((state & kClosing) != 0) {
    closing_flushed();
    return;
  }
  // Drained at once from above the low watermark to at or below it: the write callback still
  // has to hear about it, later in the iteration. (A write that never took the output above
  // the mark — a small echo under a large mark — does not cost a callback.)
  if (any(callbacks & kBevCbWrite) && before > write_low()) queue(kWrite, BevFlags{}, 0);
}

inline void BufferEvent::Impl::run_read_cb() {
  if ((state & kDeferCallbacks) != 0) {
    queue(kRead, BevFlags{}, 0);
  } else {
    invoke_read();
  }
}

inline void BufferEvent::Impl::invoke_read() {
  if (any(callbacks & kBevCbRead)) handler->on_read(self());
}

}  // namespace reactor
