#include "control_test_util.h"

#include <gtest/gtest.h>

#include <mutex>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace reactord::test_support {

InProcessReactord::InProcessReactord(unsigned loops, control::ControlOptions options) {
  Config config;
  config.listen = *reactor::SocketAddress::parse("127.0.0.1:0");
  config.loops = loops;
  config.handle_signals = false;
  server_ = std::make_unique<Server>(config);
  options.listen = *reactor::SocketAddress::parse("127.0.0.1:0");  // loopback, any port
  auto plane = std::make_unique<control::ControlPlane>(std::move(options));
  plane_ = plane.get();
  server_->add_component(std::move(plane));
  server_->start();
  waiter_ = std::make_unique<std::thread>([this] {
    exit_code_ = server_->wait();
    exited_.store(true);
  });
}

InProcessReactord::~InProcessReactord() { stop_and_wait(); }

std::uint16_t InProcessReactord::data_port() const { return server_->listen_address().port(); }

std::string InProcessReactord::control_target() const {
  return "127.0.0.1:" + std::to_string(control_port());
}

// Any thread: tests call it from several threads at once (Security.TokenReloadWhileCallsRunIsAtomic).
std::shared_ptr<grpc::Channel> InProcessReactord::channel() {
  std::lock_guard lock(channel_mutex_);
  if (!channel_) channel_ = grpc::CreateChannel(control_target(), grpc::InsecureChannelCredentials());
  return channel_;
}

std::unique_ptr<v1::Inspect::Stub> InProcessReactord::inspect() { return v1::Inspect::NewStub(channel()); }

std::unique_ptr<v1::Control::Stub> InProcessReactord::control() { return v1::Control::NewStub(channel()); }

int InProcessReactord::stop_and_wait() {
  if (waiter_) {
    if (!exited_.load()) server_->stop();
    waiter_->join();
    waiter_.reset();
  }
  return exit_code_;
}

std::optional<int> InProcessReactord::wait_for_exit(std::chrono::milliseconds limit) {
  if (!eventually([&] { return exited_.load(); }, limit)) return std::nullopt;
  return stop_and_wait();
}

std::unique_ptr<grpc::ClientContext> ctx(std::chrono::milliseconds deadline, const std::string& token) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
  return c;
}

std::unique_ptr<TcpClient> greeted_client(std::uint16_t port) {
  auto c = std::make_unique<TcpClient>(port);
  EXPECT_TRUE(c->connected());
  EXPECT_EQ(c->read_exactly(kGreeting.size()), kGreeting);
  return c;
}

bool inspect_counts_connections(InProcessReactord& r, int n) {
  auto stub = r.inspect();
  return eventually(
      [&] {
        v1::ServerInfo info;
        return stub->GetServerInfo(ctx().get(), {}, &info).ok() &&
               info.connections() == static_cast<std::uint64_t>(n);
      },
      20000ms);
}

std::vector<std::unique_ptr<TcpClient>> connect_clients(std::uint16_t port, int n) {
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < n; ++i) {
    auto client = std::make_unique<TcpClient>(port);
    if (!client->connected()) break;
    clients.push_back(std::move(client));
  }
  return clients;
}

namespace {

// The files temp_file made in this process, removed when it exits (a failed test too), so a
// test run leaves nothing in /tmp: a daemon a test started reads its token file while it
// runs, which is no later than the end of that test.
class TempFiles {
 public:
  TempFiles() = default;
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  ~TempFiles() {
    // remove_all: a test may have made the path a folder (StartupCheck's certificates).
    std::error_code ignored;
    for (const std::string& path : paths_) std::filesystem::remove_all(path, ignored);
  }
  void add(std::string path) {
    std::lock_guard lock(mu_);
    paths_.push_back(std::move(path));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> paths_;
};

TempFiles& temp_files() {
  static TempFiles files;
  return files;
}

}  // namespace

std::string temp_file(const std::string& text) {
  char path[] = "/tmp/reactord-control-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  ::close(fd);
  temp_files().add(path);
  std::ofstream(path) << text;
  return path;
}

}  // namespace reactord::test_support
