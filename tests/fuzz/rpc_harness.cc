#include "rpc_harness.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/grpcpp.h>

#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "fuzz_support.h"
#include "server/config.h"
#include "server/control/control_plane.h"
#include "server/loop_worker.h"

namespace reactord::fuzz {

RpcHarness::RpcHarness() {
  // The audit line of every Control call is still formatted (audit_text is fuzzed too), into
  // a sink that drops it; the server's own log is off (millions of calls).
  auto audit = std::make_shared<spdlog::logger>("audit", std::make_shared<spdlog::sinks::null_sink_mt>());
  audit->set_level(spdlog::level::trace);
  spdlog::register_logger(audit);
  spdlog::set_level(spdlog::level::off);
  // Protobuf's complaint about every fuzzed string that is not UTF-8 (the message is refused,
  // as the transport would refuse it).
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  start();
}

RpcHarness::~RpcHarness() { stop(); }

void RpcHarness::start() {
  Config config;
  config.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  config.loops = loops();
  config.handle_signals = false;
  server_ = std::make_unique<Server>(config);
  control::ControlOptions options;
  options.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  auto plane = std::make_unique<control::ControlPlane>(std::move(options));
  control::ControlPlane* plane_ptr = plane.get();
  server_->add_component(std::move(plane));
  server_->start();
  exited_.store(false);
  waiter_ = std::make_unique<std::thread>([this] {
    server_->wait();
    exited_.store(true);
  });
  auto channel = plane_ptr->in_process_channel();
  inspect_ = v1::Inspect::NewStub(channel);
  control_ = v1::Control::NewStub(channel);
}

void RpcHarness::stop() {
  inspect_.reset();
  control_.reset();
  clients_.clear();
  if (waiter_) {
    if (!exited_.load()) server_->stop();
    waiter_->join();
    waiter_.reset();
  }
  server_.reset();
}

bool RpcHarness::healthy() {
  if (exited_.load() || server_->state() != ServerState::kServing) return false;
  for (std::size_t i = 0; i < server_->loop_count(); ++i) {
    if (server_->loop(i).ended()) return false;
  }
  return true;
}

bool RpcHarness::await_ended(std::uint32_t loop) {
  if (loop >= server_->loop_count()) return false;
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->loop(loop).ended()) {
    if (std::chrono::steady_clock::now() >= limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void RpcHarness::restart() {
  stop();
  start();
  ++restarts_;
}

void RpcHarness::settle() {
  if (!healthy()) restart();
}

void RpcHarness::ready() {
  // BreakLoop and ExitLoop answer once the request is posted; the loops end a moment later.
  // Until they have, healthy() still says yes while their listeners close, so a refused
  // connect means the same as an unhealthy server: start a fresh one.
  if (!healthy() || !top_up_clients()) {
    restart();
    FUZZ_CHECK(top_up_clients());
  }
}

bool RpcHarness::top_up_clients() {
  // Drop the clients the server closed (EOF or reset; the greeting and echoes are read away).
  std::vector<reactor::UniqueFd> alive;
  for (auto& fd : clients_) {
    char buf[4096];
    bool open = true;
    for (;;) {
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      open = false;
      break;
    }
    if (open) alive.push_back(std::move(fd));
  }
  clients_ = std::move(alive);
  const auto address = server_->listen_address();
  while (clients_.size() < kClients) {
    reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    FUZZ_CHECK(fd.valid());
    if (::connect(fd.get(), address.get(), address.length()) != 0) {
      FUZZ_CHECK(errno == ECONNREFUSED);
      return false;
    }
    // Some bytes each way, so byte counters and buffers are not all zero.
    // A listener that closed after the handshake resets the connection: the same as refused.
    const ssize_t sent = ::send(fd.get(), "fuzz\n", 5, MSG_NOSIGNAL);
    if (sent != 5) {
      FUZZ_CHECK(sent < 0 && (errno == ECONNRESET || errno == EPIPE));
      return false;
    }
    clients_.push_back(std::move(fd));
  }
  return true;
}

}  // namespace reactord::fuzz
