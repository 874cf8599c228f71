// Command line of the two reference echo servers (libevent_echo, epoll_echo), so that
// bench/echo/run.py drives them exactly like reactord:
//   --port N       TCP port on 127.0.0.1 (0: any free port; the bound port is printed)
//   --greeting S   sent to every client on connect (default "Hello, World!\n", as reactord)
//   --backlog N    listen backlog (default 4096)
// Once listening, the server prints "listening on 127.0.0.1:PORT" on stdout and flushes.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct EchoArgs {
  std::uint16_t port = 0;
  std::string greeting = "Hello, World!\n";
  int backlog = 4096;
};

// Parses argv; on bad input prints the reason and usage to stderr and exits with status 2.
EchoArgs parse_echo_args(int argc, char** argv);

// Creates the nonblocking listening socket on 127.0.0.1, prints the "listening on" line.
// Exits with a message on failure.
int listen_loopback(const EchoArgs& args);

}  // namespace bench
