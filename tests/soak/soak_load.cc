#include "soak_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "reactor/unique_fd.h"
#include "reactord/v1/reactord.grpc.pb.h"
#include "scrape.h"

namespace reactord::soak {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void Stats::fail(const std::string& what) {
  std::lock_guard lock(mutex_);
  if (failures_.size() < 50) failures_.push_back(what);
}

std::vector<std::string> Stats::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

namespace {

// A blocking client socket to 127.0.0.1:port whose every send and receive gives up after
// 10 s (a stuck server fails the soak instead of hanging it).
reactor::UniqueFd connect_to(std::uint16_t port) {
  reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) fd.reset();
  return fd;
}

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly n bytes (false on EOF, error or the 10 s receive timeout).
bool read_exact(int fd, char* out, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, out, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    out += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Closes with a reset (SO_LINGER 0): the server sees ECONNRESET, not a FIN.
void reset_close(reactor::UniqueFd& fd) {
  linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

bool read_greeting(int fd, const Target& t, Stats& stats, const char* who) {
  std::string got(t.greeting.size(), '\0');
  if (!read_exact(fd, got.data(), got.size())) {
    stats.fail(std::string(who) + ": no greeting (" + std::strerror(errno) + ")");
    return false;
  }
  if (got != t.greeting) {
    stats.fail(std::string(who) + ": wrong greeting \"" + got + "\"");
    return false;
  }
  return true;
}

// The slow readers' byte stream: byte i of a stream is a function of i and the seed, so
// nothing needs to be kept to check it.
char stream_byte(std::uint64_t i, std::uint32_t seed) {
  return static_cast<char>((i * 131 + (i >> 9) + seed) & 0xff);
}

}  // namespace

void run_echo_client(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string payload;
  std::string back;
  while (!stop.load()) {
    reactor::UniqueFd fd = connect_to(t.data_port);
    if (!fd) {
      stats.fail("echo: connect: " + std::string(std::strerror(errno)));
      std::this_thread::sleep_for(100ms);
      continue;
    }
    if (!read_greeting(fd.get(), t, stats, "echo")) continue;
    // Up to 200 round trips per connection, then a fresh one (graceful close).
    for (int round = 0; round < 200 && !stop.load(); ++round) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 32 * 1024)(rng);
      payload.resize(n);
      for (auto& c : payload) c = static_cast<char>(rng());
      back.assign(n, '\0');
      if (!send_all(fd.get(), payload.data(), n) || !read_exact(fd.get(), back.data(), n)) {
        stats.fail("echo: round trip of " + std::to_string(n) + " bytes failed: " + std::strerror(errno));
        break;
      }
      if (back != payload) {
        std::size_t at = 0;
        while (at < n && back[at] == payload[at]) ++at;
        stats.fail("echo: wrong byte at " + std::to_string(at) + " of " + std::to_string(n));
        break;
      }
      stats.echo_bytes_checked += n;
      ++stats.echo_rounds;
    }
  }
}

void run_churn(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed) {
  std::mt19937 rng(seed);
  while (!stop.load()) {
    reactor::UniqueFd fd = connect_to(t.data_port);
    if (!fd) {
      stats.fail("churn: connect: " + std::string(std::strerror(errno)));
      std::this_thread::sleep_for(100ms);
      continue;
    }
    ++stats.churn_connections;
    switch (rng() % 4) {
      case 0:  // reset at once, before the greeting is read
        reset_close(fd);
        ++stats.churn_resets;
        break;
      case 1:  // send, then reset with the echo unread
        send_all(fd.get(), "abc\n", 4);
        reset_close(fd);
        ++stats.churn_resets;
        break;
      case 2: {  // half-close: the greeting and the whole echo, then the server's FIN
        const std::string line = "churn " + std::to_string(rng()) + "\n";
        send_all(fd.get(), line.data(), line.size());
        ::shutdown(fd.get(), SHUT_WR);
        std::string got;
        char buf[4096];
        for (;;) {
          ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
          if (r < 0 && errno == EINTR) continue;
          if (r <= 0) break;
          got.append(buf, static_cast<std::size_t>(r));
        }
        if (got != t.greeting + line) stats.fail("churn: half-close got \"" + got.substr(0, 100) + "\"");
        break;
      }
      default:  // plain close right after connecting
        fd.reset();
        break;
    }
  }
}

void run_slow_reader(const Target& t, const std::atomic<bool>& stop, Stats& stats, std::uint32_t seed) {
  constexpr std::uint64_t kMaxAhead = 3 * 1024 * 1024;  // more than --max-output-buffer: reads pause
  while (!stop.load()) {
    reactor::UniqueFd fd = connect_to(t.data_port);
    if (!fd || !read_greeting(fd.get(), t, stats, "slow reader")) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    char out[16 * 1024];
    char in[4096];
    bool ok = true;
    // 30 s per connection: send while less than kMaxAhead is outstanding, read 4 KiB every
    // 10 ms (about 400 KiB/s, far slower than the sender).
    const auto end = Clock::now() + 30s;
    auto read_some = [&](std::size_t max) {
      ssize_t r = ::recv(fd.get(), in, max, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        stats.fail("slow reader: connection ended after " + std::to_string(received) + " of " +
                   std::to_string(sent) + " bytes");
        ok = false;
        return;
      }
      for (ssize_t i = 0; i < r; ++i, ++received) {
        if (in[i] != stream_byte(received, seed)) {
          stats.fail("slow reader: wrong byte at " + std::to_string(received));
          ok = false;
          return;
        }
      }
      if (r > 0) stats.slow_bytes_checked += static_cast<std::uint64_t>(r);
    };
    while (ok && !stop.load() && Clock::now() < end) {
      if (sent - received < kMaxAhead) {
        for (std::size_t i = 0; i < sizeof out; ++i) out[i] = stream_byte(sent + i, seed);
        ssize_t w = ::send(fd.get(), out, sizeof out, MSG_NOSIGNAL);
        if (w > 0) sent += static_cast<std::uint64_t>(w);
      }
      read_some(sizeof in);
      std::this_thread::sleep_for(10ms);
    }
    // Then read everything that is still owed, quickly (bounded): not one byte may be lost.
    const auto drain_end = Clock::now() + 30s;
    while (ok && received < sent && Clock::now() < drain_end) {
      pollfd p{fd.get(), POLLIN, 0};
      ::poll(&p, 1, 100);
      read_some(sizeof in);
    }
    if (ok && received < sent) {
      stats.fail("slow reader: " + std::to_string(sent - received) + " bytes never came back");
    }
  }
}

void run_watcher(const Target& t, const std::atomic<bool>& stop, Stats& stats) {
  auto stub = v1::Inspect::NewStub(t.control);
  while (!stop.load()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 15s);
    v1::WatchConnectionsRequest request;
    auto reader = stub->WatchConnections(&ctx, request);
    ++stats.watch_streams;
    v1::ConnectionEvent event;
    while (reader->Read(&event)) {
      ++stats.watch_events;
      if (stop.load()) ctx.TryCancel();
    }
    const grpc::Status status = reader->Finish();
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
      case grpc::StatusCode::CANCELLED:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        break;
      case grpc::StatusCode::RESOURCE_EXHAUSTED:  // the documented bound for a slow watcher
        ++stats.watch_ended_exhausted;
        break;
      default:
        stats.fail("watch: " + std::to_string(status.error_code()) + " " + status.error_message());
    }
  }
}

void run_control_poller(const Target& t, const std::atomic<bool>& stop, Stats& stats) {
  auto stub = v1::Inspect::NewStub(t.control);
  while (!stop.load()) {
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 10s);
      v1::ServerInfo info;
      auto status = stub->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info);
      if (!status.ok()) stats.fail("GetServerInfo: " + status.error_message());
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 10s);
      v1::ListConnectionsRequest request;
      request.set_max_results(100);
      v1::ListConnectionsResponse page;
      auto status = stub->ListConnections(&ctx, request, &page);
      if (!status.ok()) stats.fail("ListConnections: " + status.error_message());
    }
    stats.control_calls += 2;
    std::this_thread::sleep_for(100ms);
  }
}

void run_scraper(const Target& t, const std::atomic<bool>& stop, Stats& stats) {
  while (!stop.load()) {
    try {
      auto response = test_support::http_get(t.metrics_port, "/metrics", 10000);
      if (response.status != 200 || response.body.find("reactord_") == std::string::npos) {
        stats.fail("scrape: status " + std::to_string(response.status));
      }
      ++stats.scrapes;
    } catch (const std::exception& e) {
      stats.fail(std::string("scrape: ") + e.what());
    }
    std::this_thread::sleep_for(250ms);
  }
}

}  // namespace reactord::soak
