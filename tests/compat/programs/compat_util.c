/* evutil and event_config: the helpers a libevent program calls around its events — parsing
 * "host:port", comparing and printing addresses, making sockets non-blocking, close-on-exec
 * and reusable, socket pairs, strtoll and snprintf — and choosing a backend by config
 * (avoided methods, required features, ignoring the environment). */
#include <event2/event.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void parse(const char* text) {
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  char host[INET6_ADDRSTRLEN] = "";
  int port = -1;
  int rc = evutil_parse_sockaddr_port(text, (struct sockaddr*)&ss, &len);
  if (rc == 0 && ss.ss_family == AF_INET) {
    struct sockaddr_in* sin = (struct sockaddr_in*)&ss;
    evutil_inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
  } else if (rc == 0 && ss.ss_family == AF_INET6) {
    struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&ss;
    evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    port = ntohs(sin6->sin6_port);
  }
  if (rc == 0) {
    printf("parse \"%s\": %s %s port %d len %d\n", text, ss.ss_family == AF_INET ? "v4" : "v6", host, port,
           len);
  } else {
    printf("parse \"%s\": %d\n", text, rc);
  }
}

static int sign(int x) { return x < 0 ? -1 : x > 0 ? 1 : 0; }

static void compare(const char* a, const char* b) {
  struct sockaddr_storage x, y;
  int lx = (int)sizeof x, ly = (int)sizeof y;
  if (evutil_parse_sockaddr_port(a, (struct sockaddr*)&x, &lx) != 0 ||
      evutil_parse_sockaddr_port(b, (struct sockaddr*)&y, &ly) != 0) {
    printf("compare %s %s: unparsable\n", a, b);
    return;
  }
  printf("compare %s %s: with port %d, without %d\n", a, b,
         sign(evutil_sockaddr_cmp((struct sockaddr*)&x, (struct sockaddr*)&y, 1)),
         sign(evutil_sockaddr_cmp((struct sockaddr*)&x, (struct sockaddr*)&y, 0)));
}

static int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value != 0;
}

/* Sets an option through evutil, then reads it back from the kernel. */
static void set_and_check(const char* what, int (*set)(evutil_socket_t), int fd, int level, int name) {
  int rc = set(fd);
  printf("%s: %d -> %d\n", what, rc, int_option(fd, level, name));
}

static void sockets(void) {
  evutil_socket_t pair[2];
  int fd;
  char buf[8] = "";
  printf("socketpair: %d\n", evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
  printf("nonblocking before: %d\n", (fcntl(pair[0], F_GETFL) & O_NONBLOCK) != 0);
  printf("make nonblocking: %d", evutil_make_socket_nonblocking(pair[0]));
  printf(", twice: %d\n", evutil_make_socket_nonblocking(pair[0]));
  printf("nonblocking after: %d\n", (fcntl(pair[0], F_GETFL) & O_NONBLOCK) != 0);
  printf("read on an empty non-blocking socket: %zd\n", read(pair[0], buf, sizeof buf));
  printf("make closeonexec: %d\n", evutil_make_socket_closeonexec(pair[0]));
  printf("closeonexec after: %d\n", (fcntl(pair[0], F_GETFD) & FD_CLOEXEC) != 0);
  {
    ssize_t written = write(pair[1], "ping", 4);
    ssize_t got = read(pair[0], buf, sizeof buf);
    printf("pair carries bytes: %zd %zd\n", written, got);
  }
  printf("closesocket: %d", evutil_closesocket(pair[0]));
  printf(" %d\n", evutil_closesocket(pair[1]));
  printf("closesocket of a closed fd: %d\n", evutil_closesocket(pair[0]));

  fd = socket(AF_INET6, SOCK_STREAM, 0);
  set_and_check("reuseable (SO_REUSEADDR)", evutil_make_listen_socket_reuseable, fd, SOL_SOCKET,
                SO_REUSEADDR);
  set_and_check("reuseable_port (SO_REUSEPORT)", evutil_make_listen_socket_reuseable_port, fd, SOL_SOCKET,
                SO_REUSEPORT);
  set_and_check("ipv6only (IPV6_V6ONLY)", evutil_make_listen_socket_ipv6only, fd, IPPROTO_IPV6, IPV6_V6ONLY);
  set_and_check("deferred (TCP_DEFER_ACCEPT)", evutil_make_tcp_listen_socket_deferred, fd, IPPROTO_TCP,
                TCP_DEFER_ACCEPT);
  evutil_closesocket(fd);
}

static void text(void) {
  char small[6];
  char* end = NULL;
  unsigned char v4[4];
  printf("strtoll: %lld", (long long)evutil_strtoll("  -1234567890123xyz", &end, 10));
  printf(" rest \"%s\"; hex %lld\n", end, (long long)evutil_strtoll("0x7f", NULL, 16));
  printf("snprintf: %d \"%s\"\n", evutil_snprintf(small, sizeof small, "%s-%d", "abcdef", 42), small);
  printf("snprintf fits: %d \"%s\"\n", evutil_snprintf(small, sizeof small, "%d", 7), small);
  printf("strcasecmp: %d %d %d\n", sign(evutil_ascii_strcasecmp("Hello", "hELLO")),
         sign(evutil_ascii_strcasecmp("abc", "abd")), sign(evutil_ascii_strcasecmp("b", "A")));
  printf("strncasecmp: %d %d\n", sign(evutil_ascii_strncasecmp("HTTP/1.1", "http/1.0", 6)),
         sign(evutil_ascii_strncasecmp("HTTP/1.1", "http/1.0", 8)));
  printf("inet_pton: %d", evutil_inet_pton(AF_INET, "10.1.2.3", v4));
  printf(" -> %u.%u.%u.%u; bad %d\n", v4[0], v4[1], v4[2], v4[3], evutil_inet_pton(AF_INET, "10.1.2", v4));
}

static void config(const char* what, struct event_config* cfg) {
  struct event_base* base = event_base_new_with_config(cfg);
  if (base == NULL) {
    printf("config %s: no base\n", what);
  } else {
    int f = event_base_get_features(base);
    printf("config %s: %s, features%s%s%s%s\n", what, event_base_get_method(base),
           (f & EV_FEATURE_ET) ? " ET" : "", (f & EV_FEATURE_O1) ? " O1" : "",
           (f & EV_FEATURE_FDS) ? " FDS" : "", (f & EV_FEATURE_EARLY_CLOSE) ? " EARLY_CLOSE" : "");
    event_base_free(base);
  }
  event_config_free(cfg);
}

int main(void) {
  struct event_config* cfg;
  static const char* inputs[] = {"127.0.0.1",
                                 "127.0.0.1:8080",
                                 "0.0.0.0:65535",
                                 "1.2.3.4:0",
                                 "1.2.3.4:65536",
                                 "1.2.3.4:",
                                 "1.2.3.4:-5",
                                 "1.2.3.256:80",
                                 "localhost:80",
                                 "::1",
                                 "[::1]",
                                 "[::1]:443",
                                 "[fe80::1:2]:1",
                                 "[::1]:0",
                                 "[::1",
                                 "[1.2.3.4]:80",
                                 "::ffff:1.2.3.4",
                                 "",
                                 NULL};
  int i;
  for (i = 0; inputs[i] != NULL; ++i) parse(inputs[i]);
  compare("10.0.0.1:80", "10.0.0.1:81");
  compare("10.0.0.2:80", "10.0.0.1:81");
  compare("10.0.0.1:80", "10.0.0.1:80");
  compare("[::1]:80", "[::2]:80");
  compare("[::1]:90", "[::1]:80");
  sockets();
  text();

  /* Backends: the environment's choice (EVENT_NOEPOLL for the poll run) and the config's. */
  config("default", event_config_new());
  cfg = event_config_new();
  event_config_avoid_method(cfg, "epoll");
  config("avoid epoll", cfg);
  cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
  config("ignoring the environment", cfg);
  cfg = event_config_new();
  event_config_require_features(cfg, EV_FEATURE_FDS);
  config("require FDS", cfg);
  cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
  event_config_require_features(cfg, EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE);
  config("require O1 and EARLY_CLOSE, ignoring the environment", cfg);
  printf("done\n");
  return 0;
}
