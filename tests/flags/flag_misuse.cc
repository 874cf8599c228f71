// Uses of the typed flag sets (reactor/flag_set.h), one per FLAG_CASE_<name>: tests/flags/
// CMakeLists.txt compiles this file once per case. correct_use must compile; every other case
// must be refused by the compiler — each is a mix-up that libevent's plain integers accept.
#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"

namespace {

[[maybe_unused]] void use(reactor::BufferEvent& bev, reactor::EventBase& base) {
#if defined(FLAG_CASE_correct_use)
  bev.enable(reactor::kRead | reactor::kWrite);
  bev.disable(reactor::kWrite & ~reactor::kRead);
  reactor::Event ev(base, 0, reactor::kRead | reactor::kPersist, [](int, reactor::EventFlags fired) {
    if (reactor::any(fired & reactor::kRead)) return;
  });
  (void)ev;
  const reactor::BevFlags what = reactor::kBevEof | reactor::kBevReading;
  if (reactor::any(what & ~reactor::kBevReading & reactor::kBevEof)) return;
  bev.setcb(nullptr, reactor::kBevCbRead | reactor::kBevCbEvent);
#elif defined(FLAG_CASE_integer_as_event_flags)
  bev.enable(0x02);  // EV_READ as a bare number
  (void)base;
#elif defined(FLAG_CASE_integer_as_event_flags_in_event)
  reactor::Event ev(base, 0, 0x12, [](int, reactor::EventFlags) {});  // EV_READ|EV_PERSIST
  (void)ev;
  (void)bev;
#elif defined(FLAG_CASE_event_flags_as_integer)
  int what = reactor::kRead;  // a set is not a number (bits() gives the number)
  (void)what;
  (void)bev;
  (void)base;
#elif defined(FLAG_CASE_event_flags_as_bool)
  if (bev.enabled() & reactor::kRead) return;  // any(...) says "some bit is set"
  (void)base;
#elif defined(FLAG_CASE_bev_flags_as_event_flags)
  bev.enable(reactor::kBevReading);  // BEV_EVENT_READING: EV_TIMEOUT's bit in libevent
  (void)base;
#elif defined(FLAG_CASE_event_flags_as_bev_flags)
  reactor::BevFlags what = reactor::kRead;  // EV_READ: BEV_EVENT_WRITING's bit in libevent
  (void)what;
  (void)bev;
  (void)base;
#elif defined(FLAG_CASE_event_and_bev_flags_mixed)
  auto mixed = reactor::kRead | reactor::kBevEof;
  (void)mixed;
  (void)bev;
  (void)base;
#elif defined(FLAG_CASE_event_flags_as_bev_callbacks)
  bev.setcb(nullptr, reactor::kRead);  // which callbacks are set: kBevCbRead, not kRead
  (void)base;
#elif defined(FLAG_CASE_integer_as_bev_callbacks)
  bev.setcb(nullptr, 0x01);
  (void)base;
#else
#error "flag_misuse.cc: no FLAG_CASE_<name> given"
#endif
}

}  // namespace
