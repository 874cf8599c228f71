// What libreactor_event.so offers its companion libraries (libreactor_event_inspect.so), in
// C++: the reactor base behind an event_base, and hooks at base creation and destruction. Not
// for C programs; not installed.
#pragma once

struct event_base;
namespace reactor {
class EventBase;
}

extern "C++" {
namespace reactor_event {

// The reactor base of a libevent base. Loop thread only (as the base itself).
__attribute__((visibility("default"))) reactor::EventBase& reactor_base(struct event_base* base);
// Runs fn(arg) at the start of event_base_free, before anything is torn down. Loop thread
// only.
__attribute__((visibility("default"))) void on_base_free(struct event_base* base, void (*fn)(void*),
                                                         void* arg);
// Called for every base made by event_base_new / event_base_new_with_config (one hook;
// nullptr removes it). Set by a companion library when it is loaded.
__attribute__((visibility("default"))) void set_base_created_hook(void (*fn)(struct event_base*));

}  // namespace reactor_event
}
