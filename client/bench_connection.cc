#include "client/bench_connection.h"

#include <algorithm>
#include <cstring>

namespace reactord::bench {

namespace {
constexpr std::size_t kMaxLatencySamples = 50'000'000;  // 200 MB worst case
}

BenchConnection::BenchConnection(reactor::EventBase& base, std::uint64_t index, const Options& options,
                                 BenchStats& stats, std::function<void(BenchConnection&)> on_ready)
    : bev_(base, -1), index_(index), options_(options), stats_(stats), on_ready_(std::move(on_ready)) {
  bev_.setcb([this](reactor::BufferEvent&) { on_read(); }, {},
             [this](reactor::BufferEvent&, reactor::BevFlags what, int error) { on_event(what, error); });
}

bool BenchConnection::connect(const reactor::SocketAddress& address) {
  bev_.enable(reactor::kRead);
  if (!bev_.connect(address)) {
    ++stats_.connect_errors;
    phase_ = Phase::kFailed;
    return false;
  }
  return true;
}

void BenchConnection::on_event(reactor::BevFlags what, int /*error*/) {
  if (any(what & reactor::kBevConnected)) {
    phase_ = Phase::kGreeting;
    if (options_.greeting.empty()) on_read();
    return;
  }
  if (phase_ == Phase::kConnecting) {
    ++stats_.connect_errors;
    phase_ = Phase::kFailed;
    on_ready_(*this);
    return;
  }
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) return;
  fail(false);
}

void BenchConnection::fail(bool mismatch) {
  const bool was_ready = phase_ == Phase::kRunning || phase_ == Phase::kIdle;
  if (mismatch)
    ++stats_.mismatches;
  else
    ++stats_.io_errors;
  phase_ = Phase::kFailed;
  bev_.disable(reactor::kRead);
  if (!was_ready) on_ready_(*this);
}

bool BenchConnection::check_greeting() {
  reactor::Buffer& in = bev_.input();
  const std::size_t want = options_.greeting.size();
  if (in.length() < want) {
    // Compare what is there so far: a wrong greeting fails early.
    std::string head(in.length(), '\0');
    in.copy_out(head.data(), head.size());
    if (options_.greeting.compare(0, head.size(), head) != 0) {
      ++stats_.greeting_errors;
      fail(true);
    }
    return false;
  }
  std::string head(want, '\0');
  in.remove(head.data(), want);
  if (head != options_.greeting) {
    ++stats_.greeting_errors;
    fail(true);
    return false;
  }
  return true;
}

void BenchConnection::on_read() {
  if (phase_ == Phase::kGreeting) {
    if (!check_greeting()) return;
    if (options_.depth == 0) {
      phase_ = Phase::kIdle;
    } else {
      phase_ = Phase::kRunning;
      for (std::size_t i = 0; i < options_.depth; ++i) send_message();
    }
    on_ready_(*this);
  }
  if (phase_ == Phase::kRunning)
    check_echo();
  else if (phase_ == Phase::kIdle && !bev_.input().empty())
    fail(true);  // nothing was sent
}

void BenchConnection::check_echo() {
  reactor::Buffer& in = bev_.input();
  std::size_t n = in.length();
  if (n == 0) return;
  if (received_ + n > sent_) {  // more than we sent: certainly wrong
    fail(true);
    return;
  }
  // Verify in place, span by span (no copy).
  std::uint64_t k = received_;
  for (const auto& span : in.peek()) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(span.data());
    for (std::size_t i = 0; i < span.size(); ++i, ++k) {
      if (p[i] != pattern_byte(index_, k)) {
        fail(true);
        return;
      }
    }
  }
  in.drain(n);
  const std::uint64_t size = options_.message_size;
  const std::uint64_t before = received_ / size;
  received_ += n;
  stats_.bytes += n;
  const std::uint64_t done = received_ / size - before;
  const reactor::TimePoint now = reactor::Clock::now();
  for (std::uint64_t i = 0; i < done; ++i) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - in_flight_.front()).count();
    in_flight_.pop_front();
    ++stats_.messages;
    if (stats_.latencies_us.size() < kMaxLatencySamples) {
      stats_.latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
    }
    if (!stopped_) send_message();
  }
}

void BenchConnection::send_message() {
  const std::size_t size = options_.message_size;
  scratch_.resize(size);
  for (std::size_t i = 0; i < size; ++i) scratch_[i] = pattern_byte(index_, sent_ + i);
  in_flight_.push_back(reactor::Clock::now());
  sent_ += size;
  bev_.write(scratch_.data(), size);
}

}  // namespace reactord::bench
