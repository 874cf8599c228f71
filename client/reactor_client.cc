// reactor-client: a line-oriented TCP client on our reactor's BufferEvent.
//   reactor-client [host:port]            stdin lines go out, what comes back is printed
//   reactor-client host:port --send TEXT  one line, print the greeting and the echo, exit
// After stdin ends (or the --send line is written) it half-closes the socket and prints
// everything until the server closes. Unreachable server: one line on stderr, exit 1.
#include <CLI/CLI.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "client/cli_common.h"
#include "units/units.h"
#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_base.h"
#include "reactor/socket_address.h"

namespace {

struct Session {
  reactor::EventBase& base;
  reactor::BufferEvent bev;
  std::string target;
  bool connected = false;
  bool input_done = false;   // no more lines to send
  bool half_closed = false;  // shutdown(SHUT_WR) done
  int exit_code = 0;

  Session(reactor::EventBase& b, std::string t) : base(b), bev(b, -1), target(std::move(t)) {}

  void print_input() {
    reactor::Buffer& in = bev.input();
    for (const auto& span : in.peek()) {
      std::fwrite(span.data(), 1, span.size(), stdout);
    }
    std::fflush(stdout);
    in.drain(in.length());
  }

  // Once the last line is out, FIN our side: the server echoes what is left and closes.
  void maybe_half_close() {
    if (input_done && connected && !half_closed && bev.output().empty()) {
      half_closed = true;
      ::shutdown(bev.fd(), SHUT_WR);
    }
  }

  void send_line(std::string line) {
    if (line.empty() || line.back() != '\n') line += '\n';
    bev.write(line);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:9995";
  std::string send_text;
  std::string timeout_text = "0";
  CLI::App app{"reactor-client: talk to reactord (or any line echo server) over TCP"};
  app.set_version_flag("--version", std::string("reactor-client ") + REACTORD_VERSION);
  app.add_option("address", target, "host:port (names are resolved)")->capture_default_str();
  auto* send_opt = app.add_option("--send", send_text, "Send one line, print what comes back, exit");
  app.add_option("--timeout", timeout_text, "Give up after this long (e.g. 5s; 0 = never; --send: 10s)")
      ->check(reactord::cli::duration());
  app.footer(
      "Examples:\n"
      "  reactor-client 127.0.0.1:9995\n"
      "  reactor-client 127.0.0.1:9995 --send ping --timeout 2s\n"
      "Exit codes: 0 ok, 1 cannot connect or connection error, 2 usage error,\n"
      "3 the server closed first, 4 timed out.");
  if (auto code = reactord::cli::parse(app, argc, argv, "reactor-client")) return *code;
  const bool one_shot = send_opt->count() > 0;
  std::optional<reactor::Duration> timeout = *reactord::units::parse_duration(timeout_text);
  if (one_shot && timeout->count() == 0) *timeout = std::chrono::seconds(10);

  std::string error;
  auto address = reactor::SocketAddress::resolve(target, &error);
  if (!address) {
    std::fprintf(stderr, "reactor-client: cannot resolve '%s': %s\n", target.c_str(), error.c_str());
    return 1;
  }

  reactor::EventBase base;
  Session s(base, target);
  s.bev.setcb([&s](reactor::BufferEvent&) { s.print_input(); },
              [&s](reactor::BufferEvent&) { s.maybe_half_close(); },
              [&s, &base](reactor::BufferEvent&, reactor::BevFlags what, int err) {
                if (what & reactor::kBevConnected) {
                  s.connected = true;
                  s.maybe_half_close();
                  return;
                }
                if (what & reactor::kBevEof) {
                  s.print_input();
                  if (!s.input_done) {
                    std::fprintf(stderr, "reactor-client: %s closed the connection\n", s.target.c_str());
                    s.exit_code = 3;
                  }
                } else if (what & reactor::kBevError) {
                  std::fprintf(stderr, "reactor-client: %s %s: %s\n",
                               s.connected ? "connection to" : "cannot connect to", s.target.c_str(),
                               std::strerror(err));
                  s.exit_code = 1;
                }
                base.loopbreak();
              });
  s.bev.enable(reactor::kRead);
  if (!s.bev.connect(*address)) {
    std::fprintf(stderr, "reactor-client: cannot connect to %s: %s\n", target.c_str(), std::strerror(errno));
    return 1;
  }

  std::unique_ptr<reactor::Event> deadline;
  if (timeout->count() > 0) {
    deadline = reactor::Event::timer(base, [&](int, reactor::EventFlags) {
      std::fprintf(stderr, "reactor-client: timed out after %s\n",
                   timeout_text == "0" ? "10s" : timeout_text.c_str());
      s.exit_code = 4;
      base.loopbreak();
    });
    deadline->add(*timeout);
  }

  std::thread reader;
  std::atomic<bool> quit{false};
  if (one_shot) {
    s.send_line(send_text);
    s.input_done = true;
  } else {
    // stdin can be a tty, a pipe or a file (which epoll refuses): read it on a thread and
    // hand each line to the loop through post(), the reactor's one cross-thread door.
    reader = std::thread([&base, &s, &quit] {
      std::string line;
      while (!quit.load() && std::getline(std::cin, line)) {
        base.post([&s, line] { s.send_line(line); });
      }
      base.post([&s] {
        s.input_done = true;
        s.maybe_half_close();
      });
    });
  }
  base.loop(reactor::kLoopNoExitOnEmpty);
  quit.store(true);
  if (reader.joinable()) {
    if (s.input_done) {
      reader.join();
    } else {
      reader.detach();  // blocked in getline on a terminal; the process is ending anyway
    }
  }
  return s.exit_code;
}
