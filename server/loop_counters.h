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

struct LoopCounters {
  // accept errors are counted per errno below kErrnoSlots; anything larger lands in slot 0.
  static constexpr std::size_t kErrnoSlots = 134;

  LoopCounter accepted;                                  // connections set up
  std::array<LoopCounter, kRejectReasonCount> rejected;  // by RejectReason
  std::array<LoopCounter, kCloseReasonCount> closed;     // by CloseReason
  LoopCounter bytes_in;                                  // read from clients
  LoopCounter bytes_out;                                 // written to clients
  LoopCounter backpressure_pauses;                       // reads paused for a full output
  std::array<LoopCounter, kErrnoSlots> accept_errors;    // by errno (listener errors)
  LoopCounter accept_errors_shed;                        // EMFILE/ENFILE sheds
  LoopCounter open_connections;                          // gauge: in the registry now

  // Any thread.
  std::uint64_t rejected_total() const;
  std::uint64_t closed_total() const;
  std::uint64_t accept_errors_total() const;
};

}  // namespace reactord
