// Timer benchmarks: 100k timers, each operation timed per timer (items = timers), ours vs
// libevent 2.1, in two flavours:
//   random  every timer has its own random timeout: the min-heap in both libraries;
//   common  every timer has the same duration: our init_common_timeout O(1) queues vs
//           libevent's event_base_init_common_timeout.
// Operations: add (not pending before), del (random order), reschedule (re-add a pending
// timer with a new timeout, random order), fire (run the loop until all have expired).
// Every operation visits the timers in one random order.
// add and reschedule read the clock: outside the loop both libraries read it per call; inside
// a callback — where a server adds its timers — both use the time cached for the iteration.
// So they are measured both ways: add / reschedule from outside the loop, add_in_cb /
// reschedule_in_cb from one callback. And with both clocks, each library configured alike:
//   coarse   CLOCK_MONOTONIC_COARSE: libevent's default, ours with precise_timer = false;
//   precise  CLOCK_MONOTONIC: libevent with EVENT_BASE_FLAG_PRECISE_TIMER, ours by default.
// The precise read fences the TSC, so a burst of adds on cold events cannot overlap their
// cache misses: that, not the 20 ns of the read, is what the clock costs here.
// The events live in one contiguous array in both libraries (Events constructed in place in
// raw storage; an array of struct event filled with event_assign), as they do embedded in
// connection objects. (A std::deque<Event> would put 3 Events per separately allocated
// 512-byte block and index with a division: not what libevent's side gets.)
#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/time.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <new>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "reactor/event.h"
#include "reactor/event_base.h"

namespace {

using std::chrono::microseconds;

constexpr std::size_t kTimers = 100'000;
// Far enough that nothing fires while add/del/reschedule run.
constexpr std::int64_t kFarMinUs = 10'000'000, kFarMaxUs = 110'000'000;
// Short timeouts for the fire benchmark; the wait before firing is untimed.
constexpr std::int64_t kNearMaxUs = 2'000;
constexpr auto kFireWait = std::chrono::milliseconds(12);  // libevent's clock is coarse (4 ms)

enum class Mode { kRandom, kCommon };
enum class Op { kAdd, kAddInCb, kDel, kReschedule, kRescheduleInCb, kFire };

// The random inputs, identical for both libraries: timeouts in two forms (the libevent user
// holds timevals, ours holds Durations) and a random visiting order.
struct Inputs {
  std::vector<microseconds> durations, durations2;
  std::vector<timeval> timevals, timevals2;
  std::vector<std::size_t> order;

  Inputs(std::int64_t lo, std::int64_t hi) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> dist(lo, hi);
    for (auto* pair : {&durations, &durations2}) {
      auto& tvs = pair == &durations ? timevals : timevals2;
      for (std::size_t i = 0; i < kTimers; ++i) {
        std::int64_t us = dist(rng);
        pair->push_back(microseconds(us));
        tvs.push_back(timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)});
      }
    }
    order.resize(kTimers);
    for (std::size_t i = 0; i < kTimers; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
  }
};

class OursTimers {
 public:
  OursTimers(std::int64_t common_us, bool precise)
      : base_(reactor::EventBaseConfig{.backend = reactor::Backend::kEpoll, .precise_timer = precise}),
        common_(base_.init_common_timeout(microseconds(common_us))) {
    for (std::size_t i = 0; i < kTimers; ++i) {
      new (&events_[i])
          reactor::Event(base_, -1, reactor::EventFlags{}, [this](int, reactor::EventFlags) { ++fired; });
    }
  }
  ~OursTimers() {
    for (std::size_t i = 0; i < kTimers; ++i) events_[i].~Event();
  }
  OursTimers(const OursTimers&) = delete;
  OursTimers& operator=(const OursTimers&) = delete;
  void add(std::size_t i, const Inputs& in, bool second) {
    events_[i].add(second ? in.durations2[i] : in.durations[i]);
  }
  void add_common(std::size_t i) { events_[i].add(common_); }
  void del(std::size_t i) { events_[i].del(); }
  void run_nonblock() { base_.loop(reactor::kLoopNonblock); }
  // Runs fn once from inside a callback (event_base_once with a zero timeout).
  template <typename Fn>
  bool run_in_callback(Fn fn) {
    bool ran = false;
    base_.once(-1, reactor::EventFlags{}, microseconds(0), [&](int, reactor::EventFlags) {
      fn();
      ran = true;
    });
    for (int pass = 0; pass < 1000 && !ran; ++pass) run_nonblock();
    return ran;
  }

  std::size_t fired = 0;

 private:
  reactor::EventBase base_;
  reactor::CommonTimeout common_;
  // Raw storage for kTimers Events, constructed in place; destroyed before base_.
  struct Slot {
    alignas(reactor::Event) unsigned char bytes[sizeof(reactor::Event)];
  };
  std::unique_ptr<Slot[]> storage_ = std::make_unique<Slot[]>(kTimers);
  reactor::Event* events_ = reinterpret_cast<reactor::Event*>(storage_.get());
};

class LibeventTimers {
 public:
  LibeventTimers(std::int64_t common_us, bool precise) : base_(new_base(precise)), events_(kTimers) {
    timeval tv{static_cast<time_t>(common_us / 1'000'000), static_cast<suseconds_t>(common_us % 1'000'000)};
    common_ = event_base_init_common_timeout(base_, &tv);
    for (event& ev : events_) event_assign(&ev, base_, -1, 0, on_fire, this);
  }
  ~LibeventTimers() {
    for (event& ev : events_) event_del(&ev);
    event_base_free(base_);
  }
  LibeventTimers(const LibeventTimers&) = delete;
  LibeventTimers& operator=(const LibeventTimers&) = delete;

  void add(std::size_t i, const Inputs& in, bool second) {
    event_add(&events_[i], second ? &in.timevals2[i] : &in.timevals[i]);
  }
  void add_common(std::size_t i) { event_add(&events_[i], common_); }
  void del(std::size_t i) { event_del(&events_[i]); }
  void run_nonblock() { event_base_loop(base_, EVLOOP_NONBLOCK); }
  template <typename Fn>
  bool run_in_callback(Fn fn) {
    struct Call {
      Fn* fn;
      bool ran;
    } call{&fn, false};
    timeval zero{0, 0};
    event_base_once(
        base_, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* arg) {
          auto* c = static_cast<Call*>(arg);
          (*c->fn)();
          c->ran = true;
        },
        &call, &zero);
    for (int pass = 0; pass < 1000 && !call.ran; ++pass) run_nonblock();
    return call.ran;
  }

  std::size_t fired = 0;

 private:
  static void on_fire(evutil_socket_t, short, void* arg) { ++static_cast<LibeventTimers*>(arg)->fired; }
  static event_base* new_base(bool precise) {
    event_config* cfg = event_config_new();
    if (precise) event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    event_base* base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
  }
  event_base* base_;
  const timeval* common_;
  std::vector<event> events_;
};

template <typename Timers>
void add_all(Timers& t, Mode mode, const Inputs& in, bool second = false) {
  // Random order, as connections become active: every operation lands on a cold event in
  // both libraries, whatever their memory layout.
  if (mode == Mode::kCommon) {
    for (std::size_t i : in.order) t.add_common(i);
  } else {
    for (std::size_t i : in.order) t.add(i, in, second);
  }
}

template <typename Timers>
void BM_Timers(benchmark::State& state, Op op, Mode mode, bool precise) {
  const bool fire = op == Op::kFire;
  static const Inputs far_inputs(kFarMinUs, kFarMaxUs);
  static const Inputs near_inputs(0, kNearMaxUs);
  const Inputs& in = fire ? near_inputs : far_inputs;
  // The one duration of the common flavour (the random flavour does not use it).
  Timers t(fire ? kNearMaxUs / 2 : (kFarMinUs + kFarMaxUs) / 2, precise);

  if (op == Op::kReschedule || op == Op::kRescheduleInCb) add_all(t, mode, in);
  bool second = true;  // reschedule alternates between two timeout sets
  for (auto _ : state) {
    switch (op) {
      case Op::kAdd:
      case Op::kAddInCb:
        if (op == Op::kAdd) {
          add_all(t, mode, in);
        } else if (!t.run_in_callback([&] { add_all(t, mode, in); })) {
          return state.SkipWithError("the callback did not run");
        }
        state.PauseTiming();
        for (std::size_t i = 0; i < kTimers; ++i) t.del(i);
        state.ResumeTiming();
        break;
      case Op::kDel:
        state.PauseTiming();
        add_all(t, mode, in);
        state.ResumeTiming();
        for (std::size_t i : in.order) t.del(i);
        break;
      case Op::kReschedule:
      case Op::kRescheduleInCb: {
        // Alternate between the two timeout sets so every re-add really moves the timer.
        auto reschedule_all = [&] {
          if (mode == Mode::kCommon) {
            for (std::size_t i : in.order) t.add_common(i);
          } else {
            for (std::size_t i : in.order) t.add(i, in, second);
          }
        };
        if (op == Op::kReschedule) {
          reschedule_all();
        } else if (!t.run_in_callback(reschedule_all)) {
          return state.SkipWithError("the callback did not run");
        }
        second = !second;
        break;
      }
      case Op::kFire: {
        state.PauseTiming();
        t.fired = 0;
        add_all(t, mode, in);
        std::this_thread::sleep_for(kFireWait);
        state.ResumeTiming();
        // Bounded: a pass fires everything that is due; a few passes at most.
        for (int pass = 0; pass < 1000 && t.fired < kTimers; ++pass) t.run_nonblock();
        if (t.fired != kTimers) {
          state.SkipWithError("not every timer fired");
          return;
        }
        break;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kTimers));
}

// ours and libevent registered next to each other for every (operation, flavour).
const bool kRegistered = [] {
  const std::pair<Op, const char*> ops[] = {{Op::kAdd, "add"},
                                            {Op::kAddInCb, "add_in_cb"},
                                            {Op::kDel, "del"},
                                            {Op::kReschedule, "reschedule"},
                                            {Op::kRescheduleInCb, "reschedule_in_cb"},
                                            {Op::kFire, "fire"}};
  const std::pair<Mode, const char*> modes[] = {{Mode::kRandom, "random"}, {Mode::kCommon, "common"}};
  for (bool precise : {false, true}) {
    for (auto [op, op_name] : ops) {
      for (auto [mode, mode_name] : modes) {
        std::string suffix =
            std::string("/") + op_name + "/" + mode_name + "/" + (precise ? "precise" : "coarse");
        benchmark::RegisterBenchmark(("timer/ours" + suffix).c_str(), [=](benchmark::State& s) {
          BM_Timers<OursTimers>(s, op, mode, precise);
        });
        benchmark::RegisterBenchmark(("timer/libevent" + suffix).c_str(), [=](benchmark::State& s) {
          BM_Timers<LibeventTimers>(s, op, mode, precise);
        });
      }
    }
  }
  return true;
}();

}  // namespace
