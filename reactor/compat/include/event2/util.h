/* event2/util.h — libevent 2.1's portable helpers, as reactord's compat layer provides them
 * (libreactor_event). Plain C: no C++ header is reachable from here. Only what is declared
 * here exists; anything else of libevent's util.h fails at compile time. */
#ifndef REACTOR_EVENT2_UTIL_H_INCLUDED_
#define REACTOR_EVENT2_UTIL_H_INCLUDED_

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The libevent release whose API (and behaviour) this library reproduces. */
#define LIBEVENT_VERSION "2.1.12-stable"
#define LIBEVENT_VERSION_NUMBER 0x02010c00
/* This library, for programs that want to know what they run on. */
#define REACTOR_EVENT_COMPAT 1

#if defined(__GNUC__)
#define EVENT2_EXPORT_SYMBOL __attribute__((visibility("default")))
#else
#define EVENT2_EXPORT_SYMBOL
#endif

typedef uint64_t ev_uint64_t;
typedef int64_t ev_int64_t;
typedef uint32_t ev_uint32_t;
typedef int32_t ev_int32_t;
typedef uint16_t ev_uint16_t;
typedef int16_t ev_int16_t;
typedef uint8_t ev_uint8_t;
typedef int8_t ev_int8_t;
typedef uintptr_t ev_uintptr_t;
typedef intptr_t ev_intptr_t;
typedef ssize_t ev_ssize_t;
typedef off_t ev_off_t;
typedef socklen_t ev_socklen_t;

#define EV_UINT64_MAX UINT64_MAX
#define EV_INT64_MAX INT64_MAX
#define EV_INT64_MIN INT64_MIN
#define EV_UINT32_MAX UINT32_MAX
#define EV_INT32_MAX INT32_MAX
#define EV_INT32_MIN INT32_MIN
#define EV_UINT16_MAX UINT16_MAX
#define EV_INT16_MAX INT16_MAX
#define EV_INT16_MIN INT16_MIN
#define EV_UINT8_MAX UINT8_MAX
#define EV_INT8_MAX INT8_MAX
#define EV_INT8_MIN INT8_MIN
#define EV_SIZE_MAX SIZE_MAX
#define EV_SSIZE_MAX INT64_MAX
#define EV_SSIZE_MIN ((-EV_SSIZE_MAX) - 1)

/* A socket: an int file descriptor on POSIX systems. */
#define evutil_socket_t int
#define EVUTIL_INVALID_SOCKET (-1)
#define EV_SOCK_FMT "%d"
#define EV_SOCK_ARG(x) (x)

/* Errors are errno. */
#define EVUTIL_SOCKET_ERROR() (errno)
#define EVUTIL_SET_SOCKET_ERROR(errcode) \
  do {                                   \
    errno = (errcode);                   \
  } while (0)
#define evutil_socket_geterror(sock) (errno)
#define evutil_socket_error_to_string(errcode) (strerror(errcode))
#define EVUTIL_CLOSESOCKET(s) evutil_closesocket(s)

/* Socket helpers: 0 on success, -1 with errno. */
EVENT2_EXPORT_SYMBOL int evutil_make_socket_nonblocking(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_make_socket_closeonexec(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_make_listen_socket_reuseable(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_make_listen_socket_ipv6only(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_closesocket(evutil_socket_t sock);
EVENT2_EXPORT_SYMBOL int evutil_socketpair(int d, int type, int protocol, evutil_socket_t sv[2]);

/* "1.2.3.4", "1.2.3.4:80", "[::1]", "[::1]:80", "::1" → sockaddr. 0 on success, -1 else. */
EVENT2_EXPORT_SYMBOL int evutil_parse_sockaddr_port(const char* str, struct sockaddr* out, int* outlen);
EVENT2_EXPORT_SYMBOL const char* evutil_inet_ntop(int af, const void* src, char* dst, size_t len);
EVENT2_EXPORT_SYMBOL int evutil_inet_pton(int af, const char* src, void* dst);
EVENT2_EXPORT_SYMBOL int evutil_sockaddr_cmp(const struct sockaddr* sa1, const struct sockaddr* sa2,
                                             int include_port);

EVENT2_EXPORT_SYMBOL ev_int64_t evutil_strtoll(const char* s, char** endptr, int base);
EVENT2_EXPORT_SYMBOL int evutil_snprintf(char* buf, size_t buflen, const char* format, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
EVENT2_EXPORT_SYMBOL int evutil_vsnprintf(char* buf, size_t buflen, const char* format, va_list ap);
EVENT2_EXPORT_SYMBOL int evutil_ascii_strcasecmp(const char* str1, const char* str2);
EVENT2_EXPORT_SYMBOL int evutil_ascii_strncasecmp(const char* str1, const char* str2, size_t n);

/* Time. */
#define evutil_gettimeofday(tv, tz) gettimeofday((tv), (tz))
#define evutil_timeradd(tvp, uvp, vvp) timeradd((tvp), (uvp), (vvp))
#define evutil_timersub(tvp, uvp, vvp) timersub((tvp), (uvp), (vvp))
#define evutil_timerclear(tvp) timerclear(tvp)
#define evutil_timerisset(tvp) timerisset(tvp)
#define evutil_timercmp(tvp, uvp, cmp) timercmp(tvp, uvp, cmp)

#define evutil_offsetof(type, field) offsetof(type, field)

#ifdef __cplusplus
}
#endif

#endif /* REACTOR_EVENT2_UTIL_H_INCLUDED_ */
