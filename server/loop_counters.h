// LoopCounters: what one loop has done since start, for metrics and the control plane.
// Written only by the loop's own thread, read from any thread: every field is a relaxed atomic
// (a scrape may see a count a few operations old, never a torn one). Monotonic except the
// gauges marked as such.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "server/connection_record.h"

namespace reactord {

// A counter with one writer (the loop thread) and any number of readers.
class LoopCounter {
 public:
  // Loop thread only (single writer: load + store, no locked read-modify-write).
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Gauges only. Loop thread only.
  void sub(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(std::uint64_t v) { value_.store(v, std::memory_order_relaxed); }
  // Any thread.
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// How a TLS handshake ended (metric label "result").
enum class TlsHandshakeResult : std::uint8_t {
  kOk,       // done
  kFailed,   // TLS error (wrong CA, plaintext on the TLS port, bad version, ...)
  kTimeout,  // --tls-handshake-timeout passed (a client that stalls)
  kClosed,   // the client left (EOF, reset) or was closed before it finished
};
inline constexpr std::size_t kTlsHandshakeResultCount = 4;
const char* to_string(TlsHandshakeResult result);
// Upper bounds of the handshake duration buckets, in microseconds (the last bucket: +Inf).
inline constexpr std::array<std::uint64_t, 9> kTlsHandshakeBucketsUs = {500,   1000,   2500,    5000,   10000,
                                                                        25000, 100000, 1000000, 5000000};

struct LoopCounters {
  // accept errors are counted per errno below kErrnoSlots; anything larger lands in slot 0.
  static constexpr std::size_t kErrnoSlots = 134;

  LoopCounter accepted;                                              // connections set up
  std::array<LoopCounter, kRejectReasonCount> rejected;              // by RejectReason
  std::array<LoopCounter, kCloseReasonCount> closed;                 // by CloseReason
  LoopCounter bytes_in;                                              // read from clients
  LoopCounter bytes_out;                                             // written to clients
  LoopCounter backpressure_pauses;                                   // reads paused for a full output
  std::array<LoopCounter, kErrnoSlots> accept_errors;                // by errno (listener errors)
  LoopCounter accept_errors_shed;                                    // EMFILE/ENFILE sheds
  LoopCounter open_connections;                                      // gauge: in the registry now
  std::array<LoopCounter, kTlsHandshakeResultCount> tls_handshakes;  // by TlsHandshakeResult
  // Durations of finished handshakes: per bucket (kTlsHandshakeBucketsUs, then +Inf), sum.
  std::array<LoopCounter, kTlsHandshakeBucketsUs.size() + 1> tls_handshake_buckets;
  LoopCounter tls_handshake_us_sum;
  void record_tls_handshake(std::uint64_t micros) {
    std::size_t b = 0;
    while (b < kTlsHandshakeBucketsUs.size() && micros > kTlsHandshakeBucketsUs[b]) ++b;
    tls_handshake_buckets[b].add();
    tls_handshake_us_sum.add(micros);
  }

  // Any thread.
  std::uint64_t rejected_total() const;
  std::uint64_t closed_total() const;
  std::uint64_t accept_errors_total() const;
};

}  // namespace reactord
