#include "server/drain.h"

#include <spdlog/spdlog.h>

#include "server/connection_table.h"
#include "server/cross_loop_state.h"

namespace reactord {

namespace {
// After the drain deadline, how long a graceful close may still take (see on_deadline).
constexpr reactor::Duration kDrainCloseGrace = std::chrono::milliseconds(500);
}  // namespace

Drain::Drain(unsigned index, reactor::EventBase& base, CrossLoopState& shared, ConnectionTable& connections)
    : index_(index), base_(base), shared_(shared), connections_(connections) {}

Drain::~Drain() = default;

void Drain::begin(reactor::Duration deadline) {
  active_ = true;
  connections_.mark_draining(true);
  deadline_timer_ = reactor::Event::timer(base_, [this](int, reactor::EventFlags) { on_deadline(); });
  deadline_timer_->set_label("drain.deadline");
  deadline_timer_->add(deadline);
  if (index_ == 0) {
    progress_ =
        std::make_unique<reactor::Event>(base_, -1, reactor::kPersist, [this](int, reactor::EventFlags) {
          const std::size_t left = shared_.open_connections.load(std::memory_order_relaxed);
          spdlog::info("draining: {} connections left", left);
          if (left == 0) progress_->del();  // nothing more to report
        });
    progress_->set_label("drain.progress");
    progress_->add(std::chrono::seconds(1));
  }
}

void Drain::end() {
  active_ = false;
  stop();
  connections_.mark_draining(false);
}

void Drain::stop() {
  deadline_timer_.reset();
  progress_.reset();
}

void Drain::close_idle_later(reactor::Duration after, reactor::Duration min_idle) {
  base_.once(-1, reactor::EventFlags{}, after, [this, min_idle](int, reactor::EventFlags) {
    if (!active_) return;  // resumed meanwhile
    connections_.close_idle(reactor::Clock::now(), min_idle);
  });
}

void Drain::on_deadline() {
  if (connections_.empty()) return;
  spdlog::info("loop {}: drain deadline: closing {} connections", index_, connections_.size());
  // The clients had the drain deadline to leave; what is left gets a short graceful close
  // (at its end a connection whose output is all in the kernel is closed, not reset), short
  // enough that a SIGTERM'd process is gone within --drain-timeout + 1 s with the control
  // plane and metrics stopped.
  connections_.close_all(CloseReason::kDrain, /*graceful=*/true, kDrainCloseGrace);
}

}  // namespace reactord
