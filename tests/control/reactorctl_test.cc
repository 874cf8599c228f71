// reactorctl against a running reactord process (both real binaries): exit codes, tables,
// --json that parses back into the protobuf messages, and the process exiting 0 after
// `reactorctl exit --delay`.
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "reactor/unique_fd.h"
#include "reactord_process.h"

namespace reactord::test_support {
namespace {

TEST(Reactorctl, CommandsAgainstARunningReactord) {
  Reactord d;
  ASSERT_FALSE(d.control.empty()) << d.process->log();
  ASSERT_NE(d.data_port, 0) << d.process->log();

  auto info = d.ctl({"info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("serving, accepting"), std::string::npos) << info.out;
  auto info_json = d.ctl({"--json", "info"});
  ASSERT_EQ(info_json.exit_code, 0) << info_json.err;
  auto server_info = parse_json<v1::ServerInfo>(info_json.out);
  EXPECT_EQ(server_info.pid(), d.process->pid());
  EXPECT_EQ(server_info.state(), v1::SERVER_STATE_SERVING);

  TcpClient client(d.data_port);
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  std::string peer = "127.0.0.1:" + std::to_string(client.local_port());
  auto conns = d.ctl({"conns"});
  ASSERT_EQ(conns.exit_code, 0) << conns.err;
  EXPECT_NE(conns.out.find("PEER"), std::string::npos) << conns.out;
  EXPECT_NE(conns.out.find(peer), std::string::npos) << conns.out;
  auto conns_json = parse_json<v1::ListConnectionsResponse>(d.ctl({"--json", "conns"}).out);
  ASSERT_EQ(conns_json.connections_size(), 1);
  EXPECT_EQ(conns_json.connections(0).peer_address(), peer);
  EXPECT_TRUE(conns_json.end());
  std::string id = std::to_string(conns_json.connections(0).id());

  auto filtered =
      parse_json<v1::ListConnectionsResponse>(d.ctl({"--json", "conns", "--peer", "10.0.0.0/8"}).out);
  EXPECT_EQ(filtered.connections_size(), 0);
  auto bad_filter = d.ctl({"conns", "--peer", "10.0.0.0/40"});
  EXPECT_EQ(bad_filter.exit_code, 1);
  EXPECT_NE(bad_filter.err.find("INVALID_ARGUMENT"), std::string::npos) << bad_filter.err;
  auto bad_duration = d.ctl({"conns", "--min-age", "banana"});
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.err.find("--min-age"), std::string::npos) << bad_duration.err;

  auto conn = d.ctl({"conn", id});
  ASSERT_EQ(conn.exit_code, 0) << conn.err;
  EXPECT_NE(conn.out.find("tcp:          rtt"), std::string::npos) << conn.out;
  auto conn_json = parse_json<v1::Connection>(d.ctl({"--json", "conn", id}).out);
  EXPECT_GE(conn_json.events_size(), 1);
  auto missing = d.ctl({"conn", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;

  auto events = parse_json<v1::ListEventsResponse>(d.ctl({"--json", "events", "--state", "pending"}).out);
  EXPECT_GE(events.events_size(), 2);
  for (const auto& e : events.events()) EXPECT_EQ(e.state(), v1::EVENT_STATE_PENDING);
  auto events_table = d.ctl({"events", "--loop", "0"});
  ASSERT_EQ(events_table.exit_code, 0) << events_table.err;
  EXPECT_NE(events_table.out.find("REQUESTED"), std::string::npos);
  EXPECT_EQ(d.ctl({"events", "--state", "sleepy"}).exit_code, 2);

  auto stats = parse_json<v1::GetLoopStatsResponse>(d.ctl({"--json", "stats"}).out);
  ASSERT_EQ(stats.loops_size(), 1);
  EXPECT_GT(stats.loops(0).iterations(), 0u);

  // The metrics exporter counts the control plane's RPCs (its interceptor is installed).
  auto metrics_at = d.process->log().find("metrics listening on http://");
  if (metrics_at != std::string::npos) {
    std::string url = d.process->log().substr(metrics_at + 21);
    url = url.substr(0, url.find_first_of(" \n"));
    auto scrape = run_command({"/usr/bin/curl", "-sf", url});
    ASSERT_EQ(scrape.exit_code, 0) << url;
    EXPECT_NE(scrape.out.find("reactord_control_requests_total{service=\"reactord.v1.Inspect\","
                              "method=\"GetServerInfo\",code=\"OK\"}"),
              std::string::npos)
        << scrape.out.substr(0, 4000);
  }

  auto health = d.ctl({"health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_NE(health.out.find("SERVING"), std::string::npos);

  auto watch = d.ctl({"--json", "watch", "--count", "2"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  auto first_nl = watch.out.find('\n');
  ASSERT_NE(first_nl, std::string::npos);
  auto existing = parse_json<v1::ConnectionEvent>(watch.out.substr(0, first_nl));
  EXPECT_EQ(existing.kind(), v1::ConnectionEvent::KIND_EXISTING);
  auto synced = parse_json<v1::ConnectionEvent>(watch.out.substr(first_nl + 1));
  EXPECT_EQ(synced.kind(), v1::ConnectionEvent::KIND_SYNCED);

  EXPECT_EQ(d.ctl({"close"}).exit_code, 2);  // nothing selected: usage
  auto dry = parse_json<v1::CloseConnectionsResponse>(
      d.ctl({"--json", "close", "--filter", "--peer", "127.0.0.1", "--dry-run"}).out);
  EXPECT_EQ(dry.matched(), 1u);
  auto close = d.ctl({"close", id, "--abort", "--wait"});
  ASSERT_EQ(close.exit_code, 0) << close.err;
  EXPECT_NE(close.out.find("closed 1"), std::string::npos) << close.out;
  std::string how;
  client.read_to_end(&how);
  EXPECT_EQ(how, "reset");

  auto drain = d.ctl({"drain", "--deadline", "1m"});
  ASSERT_EQ(drain.exit_code, 0) << drain.err;
  EXPECT_NE(drain.out.find("draining"), std::string::npos) << drain.out;
  EXPECT_EQ(d.ctl({"health"}).exit_code, 3);
  auto again = d.ctl({"drain"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("FAILED_PRECONDITION"), std::string::npos) << again.err;
  EXPECT_EQ(d.ctl({"resume"}).exit_code, 0);
  EXPECT_EQ(d.ctl({"health"}).exit_code, 0);
  EXPECT_EQ(d.ctl({"exit", "--delay", "-1s"}).exit_code, 2);  // no negative durations

  auto start = std::chrono::steady_clock::now();
  auto exit = d.ctl({"exit", "--delay", "500ms"});
  ASSERT_EQ(exit.exit_code, 0) << exit.err;
  auto code = d.process->wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << d.process->log();
  EXPECT_EQ(*code, 0) << d.process->log();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
}

// kubectl-style: the global flags may follow the command; every code of the exit-code scheme.
TEST(Reactorctl, GlobalFlagsAfterTheCommandAndTheExitCodes) {
  Reactord d;
  ASSERT_FALSE(d.control.empty()) << d.process->log();
  TcpClient client(d.data_port);
  ASSERT_EQ(client.read_exactly(14), "Hello, World!\n");
  auto after = run_command({REACTORCTL_BIN, "conns", "--target", d.target(), "--json", "--timeout", "5s"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  auto list = parse_json<v1::ListConnectionsResponse>(after.out);
  ASSERT_EQ(list.connections_size(), 1);
  auto mixed = run_command({REACTORCTL_BIN, "--json", "info", "--target", d.target()});
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  EXPECT_EQ(parse_json<v1::ServerInfo>(mixed.out).pid(), d.process->pid());

  // 2: a negative id is a usage error, never a huge id the server does not know.
  auto negative = d.ctl({"conn", "-5"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.err.find("NOT_FOUND"), std::string::npos) << negative.err;
  EXPECT_NE(negative.err.find("ID: '-5'"), std::string::npos) << negative.err;
  EXPECT_EQ(d.ctl({"conn", std::to_string(list.connections(0).id())}).exit_code, 0);
  // 1: the call failed.
  auto missing = d.ctl({"conn", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
  // 3: NOT_SERVING.
  ASSERT_EQ(d.ctl({"drain"}).exit_code, 0);
  EXPECT_EQ(run_command({REACTORCTL_BIN, "health", "--target", d.target()}).exit_code, 3);
  ASSERT_EQ(d.ctl({"resume"}).exit_code, 0);
  EXPECT_EQ(run_command({REACTORCTL_BIN, "health", "--target", d.target()}).exit_code, 0);
}

// Issue 13.2: `reactorctl close ID --deadline 10s` on a client with 4 MiB of output queued,
// which starts reading 3 s later, must deliver all of it and then a FIN (it got ~24 KiB and a
// reset: every graceful close used a fixed 2 s grace, whatever the operator asked).
TEST(Reactorctl, GracefulCloseDeliversEveryQueuedByteWithinTheOperatorsDeadline) {
  Reactord d({"--max-output-buffer", "8MiB"});
  ASSERT_NE(d.data_port, 0) << d.process->log();
  // A small receive buffer: the 4 MiB wait in reactord's output, not in the kernel.
  reactor::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int small = 32 * 1024;
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  const auto address = reactor::SocketAddress::ipv4_loopback(d.data_port);
  ASSERT_EQ(::connect(fd.get(), address.get(), address.length()), 0);
  std::string payload(4u << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 + i / 7919);
  for (std::size_t sent = 0; sent < payload.size();) {
    const ssize_t w = ::send(fd.get(), payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(w, 0) << std::strerror(errno);
    sent += static_cast<std::size_t>(w);
  }
  // Wait until reactord has read all of it (its echo is then queued for us).
  std::string id;
  for (int i = 0; i < 200 && id.empty(); ++i) {
    auto conns = parse_json<v1::ListConnectionsResponse>(d.ctl({"--json", "conns"}).out);
    if (conns.connections_size() == 1 && conns.connections(0).bytes_in() == payload.size()) {
      id = std::to_string(conns.connections(0).id());
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_FALSE(id.empty()) << "reactord did not read the 4 MiB";
  auto close = d.ctl({"close", id, "--deadline", "10s"});
  ASSERT_EQ(close.exit_code, 0) << close.err;
  std::this_thread::sleep_for(3s);  // the client is busy elsewhere, then reads
  std::string received;
  std::string how = "timeout";
  std::vector<char> buf(256 * 1024);
  const auto limit = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < limit) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t r = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (r > 0) {
      received.append(buf.data(), static_cast<std::size_t>(r));
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    how = r == 0 ? "eof" : std::strerror(errno);
    break;
  }
  EXPECT_EQ(how, "eof") << "after " << received.size() << " bytes";
  ASSERT_EQ(received.size(), 14 + payload.size());
  EXPECT_TRUE(received == "Hello, World!\n" + payload) << "echo corrupted";
}

TEST(Reactorctl, TokenFileAndUnreachableServer) {
  std::string admin = temp_file("s3cret-admin\n");
  std::string viewer = temp_file("s3cret-viewer\n");
  Reactord d({"--control-token-file", admin, "--control-viewer-token-file", viewer});
  ASSERT_FALSE(d.control.empty()) << d.process->log();
  auto anonymous = d.ctl({"info"});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_NE(anonymous.err.find("UNAUTHENTICATED"), std::string::npos) << anonymous.err;
  EXPECT_EQ(d.ctl({"info"}, {"--token-file", viewer}).exit_code, 0);
  auto denied = d.ctl({"resume"}, {"--token-file", viewer});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos) << denied.err;
  auto admin_resume = d.ctl({"resume"}, {"--token-file", admin});
  EXPECT_EQ(admin_resume.exit_code, 1);  // authorized, but not draining
  EXPECT_NE(admin_resume.err.find("FAILED_PRECONDITION"), std::string::npos);
  EXPECT_EQ(d.ctl({"health"}).exit_code, 0);  // health needs no token

  auto nowhere = run_command({REACTORCTL_BIN, "--target", "127.0.0.1:1", "--timeout", "1s", "info"});
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_NE(nowhere.err.find("UNAVAILABLE"), std::string::npos) << nowhere.err;
}

TEST(Reactorctl, ReactordRefusesPublicControlAddressWithoutAuth) {
  auto r = run_command({REACTORD_BIN, "--listen", "127.0.0.1:0", "--control-listen", "0.0.0.0:0",
                        "--metrics-listen", "127.0.0.1:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("refusing"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace reactord::test_support
