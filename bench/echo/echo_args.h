// Command line of the two reference echo servers (libevent_echo, epoll_echo), so that
// bench/echo/run.py drives them exactly like reactord:
//   --port N       TCP port on 127.0.0.1 (0: any free port; the bound port is printed)
//   --greeting S   sent to every client on connect (default "Hello, World!\n", as reactord)
//   --backlog N    listen backlog (default 4096)
//   --idle-threads N  start N threads that only sleep (default 0). A process with more than
//                  one thread pays for it on every system call on an fd: glibc's read()/send()
//                  take the cancellation-point path, and the kernel takes a reference on the
//                  file (fdget's shortcut is for a file table no other thread shares). reactord
//                  always has several threads (gRPC, metrics); with one idle thread the raw
//                  server pays the same, so the two measures isolate what the reactor costs.
// Once listening, the server prints "listening on 127.0.0.1:PORT" on stdout and flushes.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct EchoArgs {
  std::uint16_t port = 0;
  std::string greeting = "Hello, World!\n";
  int backlog = 4096;
  int idle_threads = 0;
};

// Parses argv; on bad input prints the reason and usage to stderr and exits with status 2.
EchoArgs parse_echo_args(int argc, char** argv);

// Creates the nonblocking listening socket on 127.0.0.1, prints the "listening on" line.
// Exits with a message on failure.
int listen_loopback(const EchoArgs& args);

// Starts args.idle_threads detached threads that sleep until the process ends.
void start_idle_threads(const EchoArgs& args);

}  // namespace bench
