// Listener out of file descriptors: in a forked child with a low RLIMIT_NOFILE and a full fd
// table, connecting clients are shed (accept with the spare fd, close), the error callback
// hears EMFILE, the loop does not spin, and accepting works again once fds are free.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <vector>

#include "reactor/event_base.h"
#include "reactor/listener.h"
#include "support/child_process.h"
#include "support/loop.h"

namespace {

using namespace reactor;
using namespace std::chrono_literals;

// Child exit codes, so the parent's failure message says what went wrong.
enum ChildStatus {
  kOk = 0,
  kSetupFailed = 10,
  kTableNotFull = 11,
  kConnectFailed = 12,
  kAcceptedWhileFull = 13,
  kNotShed = 14,
  kNoErrorCallback = 15,
  kSpinning = 16,
  kClientNotClosed = 17,
  kNoRecovery = 18,
};

constexpr int kClients = 5;

int child_main(Backend backend) {
  EventBase base(EventBaseConfig{backend, 1});
  std::vector<UniqueFd> accepted;
  accepted.reserve(16);
  int emfile_reports = 0;
  Listener listener(base, SocketAddress::ipv4_loopback(0), 0, -1,
                    [&](UniqueFd fd, const SocketAddress&) { accepted.push_back(std::move(fd)); });
  listener.set_error_callback([&](int error) { emfile_reports += error == EMFILE; });
  const SocketAddress address = listener.local_address();

  // Client sockets exist before the table fills; connect() needs no new fd.
  std::vector<UniqueFd> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!clients.back()) return kSetupFailed;
  }
  // Lower the limit, then fill every free slot under it.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return kSetupFailed;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_cur, 256);
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return kSetupFailed;
  std::vector<UniqueFd> fillers;
  fillers.reserve(limit.rlim_cur);
  for (;;) {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd) break;
    fillers.push_back(std::move(fd));
  }
  if (errno != EMFILE) return kTableNotFull;

  for (auto& c : clients) {
    if (::connect(c.get(), address.get(), address.length()) != 0) return kConnectFailed;
  }
  // Run the loop for a bounded window; a spinning listener would iterate thousands of times.
  bool window_over = false;
  auto window = Event::timer(base, [&](int, EventFlags) { window_over = true; });
  window->add(std::chrono::milliseconds(200));
  const std::uint64_t iterations_before = base.stats().iterations;
  reactord::test_support::run_until(base, [&] { return window_over; });
  const std::uint64_t iterations = base.stats().iterations - iterations_before;
  if (!accepted.empty()) return kAcceptedWhileFull;
  if (listener.shed_count() != kClients) return kNotShed;
  if (emfile_reports < kClients) return kNoErrorCallback;
  if (iterations > 20) return kSpinning;
  for (auto& c : clients) {
    char byte;
    const ssize_t n = ::recv(c.get(), &byte, 1, MSG_DONTWAIT);
    if (!(n == 0 || (n < 0 && errno == ECONNRESET))) return kClientNotClosed;
  }

  // Free the table: the next client is accepted normally.
  fillers.clear();
  UniqueFd late(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!late || ::connect(late.get(), address.get(), address.length()) != 0) return kSetupFailed;
  reactord::test_support::run_until(base, [&] { return !accepted.empty(); });
  return accepted.size() == 1 ? kOk : kNoRecovery;
}

class ListenerEmfileTest : public testing::TestWithParam<Backend> {};

TEST_P(ListenerEmfileTest, ShedsConnectionsWhenOutOfFdsWithoutSpinningAndRecovers) {
  const Backend backend = GetParam();
  const std::optional<int> code =
      reactord::test_support::run_in_child([backend] { return child_main(backend); }, 60s);
  ASSERT_TRUE(code.has_value()) << "child did not finish within 60 s";
  EXPECT_EQ(*code, kOk) << "child exit code " << *code << " (see ChildStatus; 128 + N: killed by signal N)";
}

INSTANTIATE_TEST_SUITE_P(Backends, ListenerEmfileTest, testing::Values(Backend::kEpoll, Backend::kPoll),
                         reactord::test_support::backend_name);

}  // namespace
