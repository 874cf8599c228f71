// BenchConnection: one reactor-bench client connection. It checks the greeting, keeps `depth`
// messages of `size` bytes in flight, and verifies every echoed byte against the
// deterministic stream it sent (byte k of connection c is pattern_byte(c, k)).
//
// Thread rule: loop thread only (the bench runs one EventBase on the main thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "reactor/buffer_event.h"
#include "reactor/clock.h"
#include "reactor/event_base.h"
#include "reactor/socket_address.h"

namespace reactord::bench {

// The byte at offset k of connection c's stream: varies with both, so a byte echoed to the
// wrong connection or at the wrong place is caught.
inline std::uint8_t pattern_byte(std::uint64_t c, std::uint64_t k) {
  return static_cast<std::uint8_t>((k * 131 + c * 29 + (k >> 8)) & 0xff);
}

struct BenchStats {
  std::uint64_t messages = 0;  // fully echoed and verified
  std::uint64_t bytes = 0;     // echoed and verified
  std::uint64_t connect_errors = 0;
  std::uint64_t io_errors = 0;              // resets, unexpected EOF
  std::uint64_t mismatches = 0;             // connections that got a wrong byte
  std::uint64_t greeting_errors = 0;        // greeting different from the expected one
  std::vector<std::uint32_t> latencies_us;  // one per message (capped)
};

class BenchConnection {
 public:
  enum class Phase { kConnecting, kGreeting, kRunning, kIdle, kDone, kFailed };

  struct Options {
    std::string greeting;  // expected first bytes
    std::size_t message_size = 64;
    std::size_t depth = 1;  // messages in flight (0: idle, only check the greeting)
  };

  // on_ready: greeting checked (or failed); the bench uses it to pace connects.
  BenchConnection(reactor::EventBase& base, std::uint64_t index, const Options& options, BenchStats& stats,
                  std::function<void(BenchConnection&)> on_ready);

  // Starts the non-blocking connect. False (and counted) if it failed at once.
  bool connect(const reactor::SocketAddress& address);
  // Stop sending (the run's time is up); keeps the socket until destruction.
  void stop() { stopped_ = true; }
  Phase phase() const { return phase_; }

 private:
  void on_read();
  void on_event(reactor::BevFlags what, int error);
  bool check_greeting();
  void check_echo();
  void send_message();
  void fail(bool mismatch);

  reactor::BufferEvent bev_;
  const std::uint64_t index_;
  const Options& options_;
  BenchStats& stats_;
  std::function<void(BenchConnection&)> on_ready_;
  Phase phase_ = Phase::kConnecting;
  std::uint64_t sent_ = 0;                    // stream bytes sent
  std::uint64_t received_ = 0;                // stream bytes received and verified
  std::deque<reactor::TimePoint> in_flight_;  // send time of each message not yet echoed
  std::vector<std::uint8_t> scratch_;         // one message, refilled per send
  bool stopped_ = false;
};

}  // namespace reactord::bench
