// BufferEvent::Impl: the state behind a BufferEvent, shared by buffer_event.cc (public API),
// buffer_event_io.cc (read, write, connect, callbacks) and buffer_event_close.cc.
//
// Memory: an idle connection is the Impl (two empty Buffers, the callbacks' handler, counters)
// with its read Event in place. Everything rarely needed — timeouts, the deferred-callback event, the
// graceful-close timer and its done callback — lives in Extras, allocated on first use. The
// write Event is created only the first time output cannot be sent at once.
//
// Re-entrancy: user callbacks run only from event handlers (never from inside an API call),
// each as the last thing its handler does or followed by a re-check of `state`; they run from
// a local copy (swapped out) so setcb() inside a callback never destroys the running function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

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
    kConnecting = 1 << 0,  // non-blocking connect in progress (write event armed for it)
    kClosed = 1 << 1,      // socket closed (by close_gracefully or close_abortively)
    kClosing = 1 << 2,     // graceful close in progress
    kSuspended = 1 << 3,   // reading stopped: input reached the read high watermark
    kShutWr = 1 << 4,      // graceful close: output flushed and shutdown(SHUT_WR) done
    kPeerEof = 1 << 5,     // graceful close: the peer's EOF arrived
    kLengthHook = 1 << 6,  // input's length callback installed (to resume after suspension)
    kWriteArmed = 1 << 7,  // write event pending
    kOwnFd = 1 << 8,       // connect() created the socket: close it on destruction
    // Rate limits (rate_limit.h). kRateLimited is the one bit the I/O paths test: without a
    // limit, reading and writing cost one predictable branch each and nothing else.
    kRateLimited = 1 << 9,      // a bucket or a group applies (Extras::rate_limit)
    kReadThrottled = 1 << 10,   // reading suspended until tokens come back
    kWriteThrottled = 1 << 11,  // writing suspended until tokens come back
  };

  // Rarely used state, allocated on first use.
  struct Extras {
    std::optional<Duration> read_timeout;
    std::optional<Duration> write_timeout;
    std::unique_ptr<Event> deferred;     // runs queued callbacks later in the iteration
    std::unique_ptr<Event> close_timer;  // graceful-close deadline
    std::function<void(bool)> close_done;
    // close_gracefully_unless_stalled: the deadline moves with progress (see on_close_timer).
    std::optional<Duration> close_stall;
    TimePoint close_started{};
    TimePoint close_deadline{};                        // close_gracefully's fixed deadline
    EventBase* base = nullptr;                         // the base while no read event exists yet (fd -1)
    std::uint64_t owner = 0;                           // owner tag while no read event exists yet
    int pending_error = 0;                             // errno for the queued event callback
    int connect_error = 0;                             // immediate connect failure, reported from the loop
    BevFlags pending_what = 0;                         // queued event callback flags
    EventFlags pending_data = 0;                       // queued read (kRead) / write (kWrite) callbacks
    std::unique_ptr<BufferEventRateLimit> rate_limit;  // set_rate_limit / a group
  };

  Impl(BufferEvent& self, EventBase& base, int fd, BevOptions options);
  ~Impl();

  Extras& extras_ref();
  // The read event knows the base; before the socket exists, Extras does (saves a pointer
  // in every connection).
  EventBase& base() const;
  std::uint64_t owner() const;
  void tag(Event& event, const char* label) const;
  void ensure_read_event();
  void ensure_write_event();

  // Interest.
  void arm_read();
  void arm_write();
  void disarm_write();
  void suspend_reading();
  void maybe_resume_reading();

  // I/O handlers (buffer_event_io.cc).
  void on_read(EventFlags fired);
  void on_write(EventFlags fired);
  void finish_connect();
  void write_now();
  ssize_t send_some();

  // Rate limits (buffer_event_rate_limit.cc). Called only when kRateLimited is set.
  BufferEventRateLimit& rate_limit_ref();
  std::size_t allowance(bool write, std::size_t max);  // 0: throttled now
  void charge(bool write, std::size_t bytes);
  void throttle(bool write, std::uint8_t why);
  void unthrottle(bool write, std::uint8_t why);
  void on_refill();
  void update_rate_limited_bit();
  void drop_rate_limit_on_close();

  // Callbacks, inline or deferred.
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

  bool closed() const { return (state & kClosed) != 0; }
  bool user_callbacks_allowed() const { return (state & (kClosed | kClosing)) == 0; }

  BufferEvent* self;
  Buffer input;
  Buffer output;
  std::optional<Event> read_ev;  // in place: one allocation less per connection
  std::unique_ptr<Event> write_ev;
  BufferEventHandler* handler = nullptr;       // the callbacks (see setcb)
  std::unique_ptr<FunctionHandler> functions;  // when set as std::functions
  std::unique_ptr<Extras> extras;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  TimePoint created;
  TimePoint last_read;
  TimePoint last_write;
  std::uint32_t read_low = 0;
  std::uint32_t read_high = 0;
  std::uint32_t write_low = 0;
  int fd;
  std::uint16_t state = 0;
  std::uint8_t options;
  std::uint8_t enabled = kWrite;  // as in libevent: writing on, reading off
  BevCallbacks callbacks = 0;     // which of handler's callbacks are set
};

}  // namespace reactor
