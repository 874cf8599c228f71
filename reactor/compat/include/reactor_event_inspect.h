/* reactor_event_inspect.h — the control plane's eyes for a libevent program running on
 * libreactor_event: libreactor_event_inspect.so serves the base's events through the
 * reactord.v1.Inspect gRPC service (ListEvents, GetLoopStats), so that
 *     reactorctl --target 127.0.0.1:PORT events
 * lists them. A separate library, so that libreactor_event itself never pulls in gRPC.
 *
 * Two ways in:
 *   - call reactor_event_serve_inspection(base, "127.0.0.1:0") after event_base_new;
 *   - or, for an unmodified program, set REACTOR_EVENT_INSPECT=127.0.0.1:0 and link with
 *     -Wl,--no-as-needed -lreactor_event_inspect (or LD_PRELOAD the library): every base the
 *     program creates is served.
 * Either way the bound address is printed on stderr:
 *     reactor_event: inspection of base 1 on 127.0.0.1:PORT
 * The server stops in event_base_free. Its gRPC threads reach the base only through the
 * reactor's post(): the answers come from the loop thread while it runs its loop (an RPC
 * made while the loop does not run answers UNAVAILABLE after one second). */
#ifndef REACTOR_EVENT_INSPECT_H_INCLUDED_
#define REACTOR_EVENT_INSPECT_H_INCLUDED_

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Serves base's events on address ("host:port", port 0 = any free port). Returns the bound
 * port, or -1 (bad address, port in use, already served). Call from the base's thread. */
EVENT2_EXPORT_SYMBOL int reactor_event_serve_inspection(struct event_base* base, const char* address);

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT_INSPECT_H_INCLUDED_ */
