// client_holder: holds thousands of TCP clients of reactord for the scale suite and its bench,
// in a process of its own (a process may open 20,000 fds here and reactord needs 19,000 of
// its own). Plain epoll, nothing of our reactor: the peer under test is not its own judge.
//
// Driven over stdin/stdout, one command per line, one reply line per command ("ok ..." or
// "error ..."). Clients come in named groups; a group's clients all connect from one source
// address (127.0.0.X), so that a peer filter on the server selects exactly one group.
//
//   open G N SRC       connect N clients from SRC, check each greeting    -> ok N
//   close G N          the first N open clients of G close (client side)   -> ok N
//   ports G            local ports of G's open clients, in open order      -> ok P1 P2 ...
//   echo G             each open client of G sends a line, reads it back   -> ok CLIENTS BYTES
//   pump G on|off      G's clients echo continuously, one line in flight each, paced
//                      (off returns once the lines in flight came back)    -> ok
//   stats G            -> ok open=N peer_closed=N echoed=BYTES errors=N
//   wait-closed G MS   until the server closed every open client of G (or MS ms)
//                                                                          -> ok closed=N open=N
//   quit
//
// usage: client_holder PORT [GREETING]   (the server at 127.0.0.1:PORT; GREETING without "\n")
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kConnectsInFlight = 256;  // the accept backlog is not flooded
constexpr auto kOpenLimit = 180s;               // bounds on every operation
constexpr auto kEchoLimit = 60s;
constexpr auto kPumpPause = 20ms;  // a pumping client's pause between lines
constexpr std::uint64_t kStdin = ~std::uint64_t{0};

enum class State { kConnecting, kGreeting, kOpen, kPeerClosed, kClosedByUs, kFailed };

struct Client {
  int fd = -1;
  std::string group;
  State state = State::kConnecting;
  std::string in;      // bytes received and not yet matched
  std::string expect;  // the line sent, to come back
  std::uint64_t seq = 0;
  Clock::time_point next_send{};
};

struct Group {
  std::vector<std::size_t> members;  // open order
  bool pump = false;
  std::uint64_t echoed = 0;  // bytes sent and received back intact
  std::uint64_t errors = 0;  // wrong bytes, unexpected bytes, failed sends
  std::uint64_t peer_closed = 0;
};

// The one multi-step command in progress (the next command is read when it is done).
struct Pending {
  enum Kind { kNone, kOpen, kEcho, kPumpOff, kWaitClosed } kind = kNone;
  std::string group;
  std::size_t to_start = 0, in_flight = 0, done = 0, failed = 0, total = 0;
  sockaddr_in source{};
  std::string first_error;
  Clock::time_point deadline{};
};

class Holder {
 public:
  Holder(std::uint16_t port, std::string greeting) : greeting_(std::move(greeting)) {
    target_.sin_family = AF_INET;
    target_.sin_port = htons(port);
    target_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStdin;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, 0, &ev);
  }

  int run() {
    std::vector<epoll_event> events(1024);
    while (!quit_) {
      start_connects();
      send_pumps();
      check_pending();
      if (pending_.kind == Pending::kNone) run_commands();
      if (quit_) break;
      int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 10);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kStdin) {
          read_stdin();
        } else {
          on_client(events[i].data.u64, events[i].events);
        }
      }
    }
    return 0;
  }

 private:
  void reply(const std::string& line) {
    std::string out = line + "\n";
    std::size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::write(1, out.data() + off, out.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::exit(1);
      off += static_cast<std::size_t>(n);
    }
  }

  void read_stdin() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n > 0) {
        input_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) stdin_eof_ = true;  // the test went away: finish what is queued, then quit
      return;
    }
  }

  void run_commands() {
    std::size_t nl;
    while (pending_.kind == Pending::kNone && (nl = input_.find('\n')) != std::string::npos) {
      std::string line = input_.substr(0, nl);
      input_.erase(0, nl + 1);
      command(line);
      if (quit_) return;
    }
    if (pending_.kind == Pending::kNone && stdin_eof_) quit_ = true;
  }

  void command(const std::string& line) {
    std::istringstream in(line);
    std::string verb, group, arg;
    in >> verb >> group >> arg;
    if (verb == "quit") {
      quit_ = true;
    } else if (verb == "open") {
      std::size_t n = std::strtoull(arg.c_str(), nullptr, 10);
      std::string source;
      in >> source;
      pending_ = Pending{};
      pending_.kind = Pending::kOpen;
      pending_.group = group;
      pending_.to_start = pending_.total = n;
      pending_.source.sin_family = AF_INET;
      if (::inet_pton(AF_INET, source.c_str(), &pending_.source.sin_addr) != 1) {
        pending_.kind = Pending::kNone;
        reply("error bad source address " + source);
        return;
      }
      pending_.deadline = Clock::now() + kOpenLimit;
      groups_[group];
    } else if (verb == "close") {
      std::size_t n = std::strtoull(arg.c_str(), nullptr, 10), closed = 0;
      for (auto i : groups_[group].members) {
        if (closed == n) break;
        if (clients_[i].state != State::kOpen) continue;
        drop(clients_[i], State::kClosedByUs);
        ++closed;
      }
      reply("ok " + std::to_string(closed));
    } else if (verb == "ports") {
      std::string out = "ok";
      for (auto i : groups_[group].members) {
        if (clients_[i].state != State::kOpen) continue;
        sockaddr_in a{};
        socklen_t len = sizeof a;
        ::getsockname(clients_[i].fd, reinterpret_cast<sockaddr*>(&a), &len);
        out += " " + std::to_string(ntohs(a.sin_port));
      }
      reply(out);
    } else if (verb == "echo") {
      pending_ = Pending{};
      pending_.kind = Pending::kEcho;
      pending_.group = group;
      pending_.deadline = Clock::now() + kEchoLimit;
      Group& g = groups_[group];
      for (auto i : g.members) {
        if (clients_[i].state == State::kOpen && clients_[i].expect.empty()) {
          send_line(clients_[i], g, "echo");
          ++pending_.total;
        }
      }
    } else if (verb == "pump") {
      Group& g = groups_[group];
      g.pump = arg == "on";
      if (g.pump) {
        for (auto i : g.members) clients_[i].next_send = Clock::now();
        reply("ok");
      } else {
        pending_ = Pending{};
        pending_.kind = Pending::kPumpOff;
        pending_.group = group;
        pending_.deadline = Clock::now() + kEchoLimit;
      }
    } else if (verb == "stats") {
      const Group& g = groups_[group];
      std::size_t open = 0;
      for (auto i : g.members) open += clients_[i].state == State::kOpen;
      reply("ok open=" + std::to_string(open) + " peer_closed=" + std::to_string(g.peer_closed) +
            " echoed=" + std::to_string(g.echoed) + " errors=" + std::to_string(g.errors));
    } else if (verb == "wait-closed") {
      pending_ = Pending{};
      pending_.kind = Pending::kWaitClosed;
      pending_.group = group;
      pending_.deadline = Clock::now() + std::chrono::milliseconds(std::atoll(arg.c_str()));
    } else {
      reply("error unknown command: " + line);
    }
  }

  // The pending command's progress; replies once it is complete or out of time.
  void check_pending() {
    Pending& p = pending_;
    if (p.kind == Pending::kNone) return;
    bool late = Clock::now() >= p.deadline;
    Group& g = groups_[p.group];
    switch (p.kind) {
      case Pending::kOpen:
        if (p.done + p.failed == p.total) {
          reply(p.failed == 0 ? "ok " + std::to_string(p.done)
                              : "error opened " + std::to_string(p.done) + " of " + std::to_string(p.total) +
                                    ": " + p.first_error);
        } else if (late) {
          reply("error open timed out: " + std::to_string(p.done) + " of " + std::to_string(p.total) +
                " greeted");
        } else {
          return;
        }
        break;
      case Pending::kEcho:
      case Pending::kPumpOff: {
        std::size_t waiting = 0;
        for (auto i : g.members) {
          waiting += clients_[i].state == State::kOpen && !clients_[i].expect.empty();
        }
        if (waiting > 0 && !late) return;
        if (waiting > 0) {
          reply("error " + std::to_string(waiting) + " client(s) got no echo in time");
        } else if (p.kind == Pending::kEcho) {
          reply("ok " + std::to_string(p.total) + " " + std::to_string(p.done));
        } else {
          reply("ok");
        }
        break;
      }
      case Pending::kWaitClosed: {
        std::size_t open = 0, closed = 0;
        for (auto i : g.members) {
          open += clients_[i].state == State::kOpen;
          closed += clients_[i].state == State::kPeerClosed;
        }
        if (open > 0 && !late) return;
        reply("ok closed=" + std::to_string(closed) + " open=" + std::to_string(open));
        break;
      }
      case Pending::kNone:
        break;
    }
    p.kind = Pending::kNone;
  }

  void start_connects() {
    Pending& p = pending_;
    if (p.kind != Pending::kOpen) return;
    while (p.to_start > 0 && p.in_flight < kConnectsInFlight) {
      --p.to_start;
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        fail_open(std::string("socket: ") + std::strerror(errno));
        continue;
      }
      int one = 1;
      // The port is picked at connect() for the 4-tuple, not at bind() for the address alone.
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&p.source), sizeof p.source) != 0 ||
          (::connect(fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
           errno != EINPROGRESS)) {
        fail_open(std::string("connect: ") + std::strerror(errno));
        ::close(fd);
        continue;
      }
      std::size_t index = clients_.size();
      Client c;
      c.fd = fd;
      c.group = p.group;
      clients_.push_back(std::move(c));
      groups_[p.group].members.push_back(index);
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = index;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
      ++p.in_flight;
    }
  }

  void fail_open(const std::string& why) {
    ++pending_.failed;
    if (pending_.first_error.empty()) pending_.first_error = why;
  }

  void on_client(std::uint64_t index, std::uint32_t what) {
    Client& c = clients_[index];
    Group& g = groups_[c.group];
    if (c.fd < 0) return;
    if (c.state == State::kConnecting) {
      if (!(what & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        opening_failed(c, std::string("connect: ") + std::strerror(err));
        return;
      }
      c.state = State::kGreeting;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = index;
      ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EOF or an error (reset): the server closed this client.
      if (c.state == State::kGreeting) {
        opening_failed(c, "closed before the greeting");
      } else if (c.state == State::kOpen) {
        consume(c, g);
        if (!c.expect.empty() || !c.in.empty()) ++g.errors;  // a line lost in flight
        ++g.peer_closed;
        drop(c, State::kPeerClosed);
      }
      return;
    }
    if (c.state == State::kGreeting) {
      if (c.in.size() < greeting_.size()) return;
      if (c.in.compare(0, greeting_.size(), greeting_) != 0) {
        opening_failed(c, "wrong greeting: " + c.in.substr(0, greeting_.size()));
        return;
      }
      c.in.erase(0, greeting_.size());
      c.state = State::kOpen;
      --pending_.in_flight;
      ++pending_.done;
    }
    consume(c, g);
  }

  // Matches received bytes against the line in flight.
  void consume(Client& c, Group& g) {
    if (c.in.empty()) return;
    if (c.expect.empty()) {  // nothing was sent: nothing may arrive
      ++g.errors;
      c.in.clear();
      return;
    }
    if (c.in.size() < c.expect.size()) {
      if (c.expect.compare(0, c.in.size(), c.in) != 0) ++g.errors, c.in.clear();
      return;
    }
    if (c.in.compare(0, c.expect.size(), c.expect) == 0) {
      g.echoed += c.expect.size();
      if (pending_.kind == Pending::kEcho && pending_.group == c.group) {
        pending_.done += c.expect.size();
      }
    } else {
      ++g.errors;
    }
    c.in.erase(0, c.expect.size());
    c.expect.clear();
    c.next_send = Clock::now() + kPumpPause;
    if (!c.in.empty()) ++g.errors, c.in.clear();
  }

  void opening_failed(Client& c, const std::string& why) {
    fail_open(why);
    --pending_.in_flight;
    drop(c, State::kFailed);
  }

  void drop(Client& c, State state) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.state = state;
  }

  void send_line(Client& c, Group& g, const char* tag) {
    c.expect = std::string(tag) + " " + std::to_string(c.fd) + " " + std::to_string(++c.seq) +
               " the quick brown fox\n";
    ssize_t n = ::send(c.fd, c.expect.data(), c.expect.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(c.expect.size())) {
      ++g.errors;
      c.expect.clear();
    }
  }

  void send_pumps() {
    auto now = Clock::now();
    for (auto& [name, g] : groups_) {
      if (!g.pump) continue;
      for (auto i : g.members) {
        Client& c = clients_[i];
        if (c.state == State::kOpen && c.expect.empty() && c.next_send <= now) {
          send_line(c, g, "pump");
        }
      }
    }
  }

  std::string greeting_;
  sockaddr_in target_{};
  int epoll_ = -1;
  std::vector<Client> clients_;
  std::map<std::string, Group> groups_;
  Pending pending_;
  std::string input_;
  bool stdin_eof_ = false;
  bool quit_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: client_holder PORT [GREETING]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "client_holder: bad port %s\n", argv[1]);
    return 2;
  }
  std::string greeting = argc > 2 ? std::string(argv[2]) + "\n" : "Hello, World!\n";
  Holder holder(static_cast<std::uint16_t>(port), greeting);
  return holder.run();
}
