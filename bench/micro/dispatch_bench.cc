// Dispatch benchmark in the spirit of libevent's test/bench.c: P descriptors with persistent
// read events, A tokens started per round, W chained writes; each callback reads its byte
// and writes to the next descriptor. Time per callback (items = callbacks), for
//   dispatch/ours      our EventBase on the epoll backend,
//   dispatch/compat    libevent's C API on our EventBase (libreactor_event.so, loaded with
//                      dlopen: libevent itself is linked into this binary under the same names),
//   dispatch/libevent  libevent 2.1 (epoll),
//   dispatch/epoll     a bare epoll_wait loop calling the same work: the floor.
// Setup (creating and adding the P events) is outside the timed region; a round is timed
// from the first token written until every byte has been read.
#include <dlfcn.h>
#include <event2/event.h>
#include <sys/epoll.h>

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "reactor/event.h"
#include "reactor/event_base.h"
#include "socket_ring.h"

namespace {

using bench::ChainState;
using bench::SocketRing;

// A round ends long before this many loop passes; more means events were lost.
constexpr std::size_t kMaxPassesPerRound = 100'000'000;

struct Params {
  std::size_t p, a, w;
  explicit Params(const benchmark::State& state)
      : p(static_cast<std::size_t>(state.range(0))),
        a(static_cast<std::size_t>(state.range(1))),
        w(static_cast<std::size_t>(state.range(2))) {}
};

// Runs the rounds; `pass` polls once without blocking and runs what is ready.
template <typename Pass>
void run_rounds(benchmark::State& state, ChainState& chain, const Params& prm, Pass&& pass) {
  std::size_t callbacks = 0;
  for (auto _ : state) {
    chain.start_round(prm.a, prm.w);
    std::size_t passes = 0;
    while (!chain.round_done() && passes++ < kMaxPassesPerRound) pass();
    callbacks += chain.count;
  }
  if (chain.failures != 0 || !chain.round_done()) {
    state.SkipWithError("lost or failed reads/writes: results invalid");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(callbacks));
}

void BM_DispatchOurs(benchmark::State& state) {
  Params prm(state);
  SocketRing ring(prm.p);
  ChainState chain{&ring};
  reactor::EventBase base(reactor::EventBaseConfig{.backend = reactor::Backend::kEpoll});
  std::vector<std::unique_ptr<reactor::Event>> events;
  events.reserve(prm.p);
  for (std::size_t i = 0; i < prm.p; ++i) {
    events.push_back(
        std::make_unique<reactor::Event>(base, ring.fd(i), reactor::kRead | reactor::kPersist,
                                         [&chain, i](int, reactor::EventFlags) { chain.on_readable(i); }));
    events.back()->add();
  }
  base.loop(reactor::kLoopNonblock);
  run_rounds(state, chain, prm, [&] { base.loop(reactor::kLoopOnce | reactor::kLoopNonblock); });
  events.clear();
}

void libevent_read_cb(evutil_socket_t, short, void* arg);

struct LibeventSlot {
  ChainState* chain;
  std::size_t idx;
};

void libevent_read_cb(evutil_socket_t, short, void* arg) {
  auto* slot = static_cast<LibeventSlot*>(arg);
  slot->chain->on_readable(slot->idx);
}

void BM_DispatchLibevent(benchmark::State& state) {
  Params prm(state);
  SocketRing ring(prm.p);
  ChainState chain{&ring};
  event_base* base = event_base_new();
  if (base == nullptr || std::strcmp(event_base_get_method(base), "epoll") != 0) {
    state.SkipWithError("libevent did not pick epoll");
    if (base != nullptr) event_base_free(base);
    return;
  }
  std::vector<LibeventSlot> slots(prm.p);
  std::vector<event*> events(prm.p);
  for (std::size_t i = 0; i < prm.p; ++i) {
    slots[i] = {&chain, i};
    events[i] = event_new(base, ring.fd(i), EV_READ | EV_PERSIST, libevent_read_cb, &slots[i]);
    event_add(events[i], nullptr);
  }
  event_base_loop(base, EVLOOP_NONBLOCK);
  run_rounds(state, chain, prm, [&] { event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); });
  for (event* ev : events) event_free(ev);
  event_base_free(base);
}

// libreactor_event's entry points, looked up in the library loaded privately (RTLD_LOCAL), so
// that they do not collide with the libevent linked into this binary. The library binds its
// own internal calls (-Bsymbolic-functions), so it never calls into libevent either.
struct CompatApi {
  void* handle = nullptr;
  decltype(&event_config_new) config_new = nullptr;
  decltype(&event_config_avoid_method) config_avoid_method = nullptr;
  decltype(&event_config_free) config_free = nullptr;
  decltype(&event_base_new_with_config) base_new_with_config = nullptr;
  decltype(&event_base_get_method) base_get_method = nullptr;
  decltype(&event_new) new_event = nullptr;
  decltype(&event_add) add = nullptr;
  decltype(&event_free) free_event = nullptr;
  decltype(&event_base_loop) loop = nullptr;
  decltype(&event_base_free) base_free = nullptr;

  template <typename F>
  bool sym(F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(handle, name));
    return f != nullptr;
  }
  bool load() {
    handle = ::dlopen(REACTOR_EVENT_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return false;
    return sym(config_new, "event_config_new") && sym(config_avoid_method, "event_config_avoid_method") &&
           sym(config_free, "event_config_free") && sym(base_new_with_config, "event_base_new_with_config") &&
           sym(base_get_method, "event_base_get_method") && sym(new_event, "event_new") &&
           sym(add, "event_add") && sym(free_event, "event_free") && sym(loop, "event_base_loop") &&
           sym(base_free, "event_base_free");
  }
};

// The same C program as dispatch/libevent, on libreactor_event: the difference to
// dispatch/ours is what the compat layer costs per callback (one indirect call: the C
// callback behind the reactor's std::function).
void BM_DispatchCompat(benchmark::State& state) {
  static CompatApi api;
  static const bool loaded = api.load();
  if (!loaded) {
    state.SkipWithError("cannot load libreactor_event");
    return;
  }
  Params prm(state);
  SocketRing ring(prm.p);
  ChainState chain{&ring};
  event_config* cfg = api.config_new();
  api.config_avoid_method(cfg, "poll");  // epoll, whatever REACTOR_BACKEND says
  event_base* base = api.base_new_with_config(cfg);
  api.config_free(cfg);
  if (base == nullptr || std::strcmp(api.base_get_method(base), "epoll") != 0) {
    state.SkipWithError("libreactor_event did not pick epoll");
    if (base != nullptr) api.base_free(base);
    return;
  }
  std::vector<LibeventSlot> slots(prm.p);
  std::vector<event*> events(prm.p);
  for (std::size_t i = 0; i < prm.p; ++i) {
    slots[i] = {&chain, i};
    events[i] = api.new_event(base, ring.fd(i), EV_READ | EV_PERSIST, libevent_read_cb, &slots[i]);
    api.add(events[i], nullptr);
  }
  api.loop(base, EVLOOP_NONBLOCK);
  run_rounds(state, chain, prm, [&] { api.loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK); });
  for (event* ev : events) api.free_event(ev);
  api.base_free(base);
}

// The floor: what any epoll reactor must do at least — one epoll_wait per pass, then the
// work for each ready descriptor, with the index carried in epoll_data.
void BM_DispatchEpoll(benchmark::State& state) {
  Params prm(state);
  SocketRing ring(prm.p);
  ChainState chain{&ring};
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    state.SkipWithError("epoll_create1 failed");
    return;
  }
  for (std::size_t i = 0; i < prm.p; ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, ring.fd(i), &ev);
  }
  std::vector<epoll_event> ready(1024);
  run_rounds(state, chain, prm, [&] {
    int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 0);
    for (int i = 0; i < n; ++i) chain.on_readable(static_cast<std::size_t>(ready[i].data.u64));
  });
  ::close(ep);
}

// P descriptors; A tokens per round; W chained writes per round. P = 10000 uses 10000
// descriptors (see socket_ring.h), within the limit of 20000. The three loops are registered
// interleaved per configuration, so that a noisy neighbour hurts them alike.
const bool kRegistered = [] {
  for (std::int64_t p : {100, 1000, 10000}) {
    for (std::int64_t a : {1, 100}) {
      benchmark::RegisterBenchmark("dispatch/ours", BM_DispatchOurs)
          ->Args({p, a, 1000})
          ->ArgNames({"P", "A", "W"});
      benchmark::RegisterBenchmark("dispatch/compat", BM_DispatchCompat)
          ->Args({p, a, 1000})
          ->ArgNames({"P", "A", "W"});
      benchmark::RegisterBenchmark("dispatch/libevent", BM_DispatchLibevent)
          ->Args({p, a, 1000})
          ->ArgNames({"P", "A", "W"});
      benchmark::RegisterBenchmark("dispatch/epoll", BM_DispatchEpoll)
          ->Args({p, a, 1000})
          ->ArgNames({"P", "A", "W"});
    }
  }
  return true;
}();

}  // namespace
