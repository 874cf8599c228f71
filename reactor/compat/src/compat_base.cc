// event_base and event_config: creating a base (backend choice from the config and libevent's
// EVENT_NO* environment variables), the loop, loop control, priorities, common timeouts, the
// time cache, counting and walking events, logging.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "compat_internal.h"
#include "reactor_event_private.h"

struct event_config {
  bool avoid_epoll = false;
  bool avoid_poll = false;
  int features = 0;
  int flags = 0;
};

namespace reactor_event {
namespace {

event_log_cb g_log_cb = nullptr;
void (*g_base_created)(struct event_base*) = nullptr;

// libevent encodes a common timeout in tv_usec: magic | index << 20 | microseconds.
constexpr long kCommonMagic = 0x50000000;
constexpr long kCommonMagicMask = 0xf0000000;
constexpr long kCommonIndexMask = 0x0ff00000;
constexpr int kCommonIndexShift = 20;
constexpr long kMicrosMask = 0x000fffff;
constexpr int kMaxCommonTimeouts = 256;

int features_of(reactor::Backend backend) {
  return backend == reactor::Backend::kEpoll ? (EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE)
                                             : (EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE);
}

struct event_base* make_base(const event_config* cfg) {
  event_config defaults;
  if (cfg == nullptr) cfg = &defaults;
  bool avoid_epoll = cfg->avoid_epoll;
  bool avoid_poll = cfg->avoid_poll;
  if ((cfg->flags & EVENT_BASE_FLAG_IGNORE_ENV) == 0) {
    if (std::getenv("EVENT_NOEPOLL") != nullptr) avoid_epoll = true;
    if (std::getenv("EVENT_NOPOLL") != nullptr) avoid_poll = true;
  }
  reactor::EventBaseConfig config;
  // Neither the config nor libevent's environment chose: the reactor's own default (epoll,
  // or REACTOR_BACKEND / REACTOR_NOEPOLL).
  if (avoid_epoll) config.backend = reactor::Backend::kPoll;
  if (avoid_poll) config.backend = reactor::Backend::kEpoll;
  if (avoid_epoll && avoid_poll) {
    warn("%s: no event mechanism available (select is not provided)", __func__);
    return nullptr;
  }
  if (cfg->features != 0) {
    // The first backend (epoll, then poll) that has every required feature.
    reactor::Backend pick = reactor::Backend::kEpoll;
    if (avoid_epoll || (features_of(reactor::Backend::kEpoll) & cfg->features) != cfg->features) {
      pick = reactor::Backend::kPoll;
      if (avoid_poll || (features_of(pick) & cfg->features) != cfg->features) {
        warn("%s: no event mechanism available", __func__);
        return nullptr;
      }
    }
    config.backend = pick;
  }
  try {
    auto* base = new event_base(config);
    if (g_base_created != nullptr) g_base_created(base);
    return base;
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return nullptr;
  }
}

}  // namespace

void warn(const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g_log_cb != nullptr) {
    g_log_cb(EVENT_LOG_WARN, msg);
  } else {
    std::fprintf(stderr, "[warn] %s\n", msg);
  }
}

reactor::Duration to_duration(const timeval& tv) {
  return std::chrono::seconds(tv.tv_sec) + reactor::Duration(tv.tv_usec & kMicrosMask);
}

timeval to_timeval(reactor::Duration d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1000000);
  return tv;
}

timeval wall_clock_in(reactor::Duration left) {
  timeval now{};
  gettimeofday(&now, nullptr);
  const timeval add = to_timeval(left);
  timeval out{};
  timeradd(&now, &add, &out);
  return out;
}

reactor::EventBase& reactor_base(struct event_base* base) { return base->base; }

void on_base_free(struct event_base* base, void (*fn)(void*), void* arg) {
  base->free_hooks.push_back(FreeHook{fn, arg});
}

void set_base_created_hook(void (*fn)(struct event_base*)) { g_base_created = fn; }

// Used by event_add: the common timeout a timeval stands for, if it is one of ours.
std::optional<reactor::CommonTimeout> common_timeout_of(struct event_base* base, const timeval& tv) {
  if ((tv.tv_usec & kCommonMagicMask) != kCommonMagic) return std::nullopt;
  const auto index = static_cast<std::size_t>((tv.tv_usec & kCommonIndexMask) >> kCommonIndexShift);
  if (index >= base->common.size()) return std::nullopt;
  return base->common[index];
}

}  // namespace reactor_event

using reactor_event::warn;

extern "C" {

struct event_config* event_config_new(void) {
  return new (std::nothrow) event_config;
}
void event_config_free(struct event_config* cfg) { delete cfg; }

int event_config_avoid_method(struct event_config* cfg, const char* method) {
  if (cfg == nullptr || method == nullptr) return -1;
  if (std::strcmp(method, "epoll") == 0) cfg->avoid_epoll = true;
  if (std::strcmp(method, "poll") == 0) cfg->avoid_poll = true;
  return 0;
}

int event_config_require_features(struct event_config* cfg, int feature) {
  if (cfg == nullptr) return -1;
  cfg->features = feature;
  return 0;
}

int event_config_set_flag(struct event_config* cfg, int flag) {
  if (cfg == nullptr) return -1;
  cfg->flags |= flag;
  return 0;
}

int event_config_set_num_cpus_hint(struct event_config* cfg, int) { return cfg == nullptr ? -1 : 0; }

struct event_base* event_base_new(void) {
  return reactor_event::make_base(nullptr);
}

struct event_base* event_base_new_with_config(const struct event_config* cfg) {
  return reactor_event::make_base(cfg);
}

void event_base_free(struct event_base* base) {
  if (base == nullptr) return;
  if (base->loop_depth > 0) {
    warn("%s: called from inside the loop; not freed", __func__);
    return;
  }
  for (const auto& hook : base->free_hooks) hook.fn(hook.arg);
  // Events the program still holds stay valid objects, detached from the base (libevent:
  // they are no longer pending).
  for (struct event* ev = base->events_head; ev != nullptr; ev = ev->next) ev->ev().del();
  for (struct event* ev = base->events_head; ev != nullptr; ev = ev->next) ev->base = nullptr;
  delete base;
}

void event_base_free_nofinalize(struct event_base* base) { event_base_free(base); }

int event_reinit(struct event_base* base) {
  try {
    base->base.reinit();
    return 0;
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return -1;
  }
}

const char* event_base_get_method(const struct event_base* base) { return base->base.backend_name(); }

int event_base_get_features(const struct event_base* base) {
  return reactor_event::features_of(base->base.backend());
}

const char** event_get_supported_methods(void) {
  static const char* methods[] = {"epoll", "poll", nullptr};
  return methods;
}

const char* event_get_version(void) { return LIBEVENT_VERSION; }
ev_uint32_t event_get_version_number(void) { return LIBEVENT_VERSION_NUMBER; }

int event_base_loop(struct event_base* base, int flags) {
  if (base->loop_depth > 0) {
    warn("%s: reentrant invocation.  Only one event_base_loop can run on each event_base at once.", __func__);
    return -1;
  }
  ++base->loop_depth;
  int rc;
  try {
    rc = base->base.loop(static_cast<reactor::LoopFlags>(flags)) == reactor::LoopResult::kExited ? 0 : 1;
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    rc = -1;
  }
  --base->loop_depth;
  return rc;
}

int event_base_dispatch(struct event_base* base) { return event_base_loop(base, 0); }

int event_base_loopexit(struct event_base* base, const struct timeval* tv) {
  if (base == nullptr) return -1;
  if (tv == nullptr) {
    base->base.loopexit();
  } else {
    base->base.loopexit(reactor_event::to_duration(*tv));
  }
  return 0;
}

int event_base_loopbreak(struct event_base* base) {
  if (base == nullptr) return -1;
  base->base.loopbreak();
  return 0;
}

int event_base_loopcontinue(struct event_base* base) {
  if (base == nullptr) return -1;
  base->base.loopcontinue();
  return 0;
}

int event_base_got_exit(struct event_base* base) { return base->base.got_exit() ? 1 : 0; }
int event_base_got_break(struct event_base* base) { return base->base.got_break() ? 1 : 0; }

int event_base_priority_init(struct event_base* base, int npriorities) {
  if (npriorities < 1 || npriorities >= EVENT_MAX_PRIORITIES) return -1;
  if (base->base.counts().active > 0) return -1;
  if (npriorities == base->base.priorities()) return 0;
  try {
    base->base.set_priorities(npriorities);
    return 0;
  } catch (const std::exception& e) {
    warn("%s: %s", __func__, e.what());
    return -1;
  }
}

int event_base_get_npriorities(struct event_base* base) { return base->base.priorities(); }

const struct timeval* event_base_init_common_timeout(struct event_base* base,
                                                     const struct timeval* duration) {
  if (base == nullptr || duration == nullptr) return nullptr;
  const reactor::Duration d = reactor_event::to_duration(*duration);
  for (std::size_t i = 0; i < base->common.size(); ++i) {
    if (base->common[i].duration == d) return &base->common_tv[i];
  }
  if (base->common.size() >= reactor_event::kMaxCommonTimeouts) {
    warn("%s: Too many common timeouts already in use; we only support %d per event_base", __func__,
         reactor_event::kMaxCommonTimeouts);
    return nullptr;
  }
  const std::size_t index = base->common.size();
  base->common.push_back(base->base.init_common_timeout(d));
  timeval tv = reactor_event::to_timeval(d);
  tv.tv_usec |= reactor_event::kCommonMagic | (static_cast<long>(index) << reactor_event::kCommonIndexShift);
  // common_tv never reallocates under a caller: reserve the maximum once.
  if (base->common_tv.capacity() < reactor_event::kMaxCommonTimeouts) {
    base->common_tv.reserve(reactor_event::kMaxCommonTimeouts);
  }
  base->common_tv.push_back(tv);
  return &base->common_tv.back();
}

int event_base_gettimeofday_cached(struct event_base* base, struct timeval* tv) {
  if (base == nullptr || tv == nullptr) return gettimeofday(tv, nullptr);
  // The cached monotonic time of this iteration, expressed as wall-clock time.
  const reactor::Duration behind =
      std::chrono::duration_cast<reactor::Duration>(reactor::Clock::now() - base->base.now());
  timeval now{};
  gettimeofday(&now, nullptr);
  const timeval back = reactor_event::to_timeval(behind);
  timersub(&now, &back, tv);
  return 0;
}

int event_base_update_cache_time(struct event_base* base) { return base == nullptr ? -1 : 0; }

int event_base_get_num_events(struct event_base* base, unsigned int flags) {
  // libevent counts user (non-internal) events: ACTIVE the active ones; ADDED one for being
  // registered (io/signal), one more for a scheduled timeout and one more while active — its
  // 2.1 bookkeeping, reproduced; VIRTUAL is always 0 here.
  int active = 0;
  int added = 0;
  for (const reactor::EventInfo& e : base->base.snapshot()) {
    if (e.kind == reactor::EventKind::kInternal) continue;
    const bool registered_kind = e.kind == reactor::EventKind::kIo || e.kind == reactor::EventKind::kSignal;
    if (e.state == reactor::EventState::kActive) {
      ++active;
      ++added;
      if (registered_kind && any(e.requested & reactor::kPersist)) ++added;
    } else if (e.state == reactor::EventState::kPending && registered_kind) {
      ++added;
    }
    if (e.time_left) ++added;
  }
  int r = 0;
  if (flags & EVENT_BASE_COUNT_ACTIVE) r += active;
  if (flags & EVENT_BASE_COUNT_ADDED) r += added;
  return r;
}

int event_base_foreach_event(struct event_base* base, event_base_foreach_event_cb fn, void* arg) {
  if (base == nullptr || fn == nullptr) return -1;
  // Oldest first: the list is kept newest first.
  std::vector<const struct event*> events;
  for (struct event* ev = base->events_head; ev != nullptr; ev = ev->next) {
    if (ev->ev().state() != reactor::EventState::kInitialized) events.push_back(ev);
  }
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (int r = fn(base, *it, arg); r != 0) return r;
  }
  return 0;
}

void event_set_log_callback(event_log_cb cb) { reactor_event::g_log_cb = cb; }
void event_enable_debug_mode(void) {}

}  // extern "C"
