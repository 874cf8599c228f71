// scale_bench: what an operator waits for at 19,000 connections (issue #12's targets), on the
// real reactord binary (--loops 2) with the clients held by tests/scale/client_holder:
//
//   a ListConnections page of 1000          target <= 20 ms
//   ListEvents over every event (~19,000)   target <= 100 ms
//   a /metrics scrape                       target <= 10 ms
//   CloseConnections of 19,000 by filter,   target <= 1 s
//     wait (until every one is closed), graceful and abort
//
// Times are the caller's wall clock around one call (gRPC from this process; the scrape is a
// plain HTTP/1.1 GET on a fresh TCP connection, as Prometheus does), as p50 / p90 / max over
// --samples calls. Prints a Markdown table (docs/PERFORMANCE.md, "Scale"); --json-out also
// writes the numbers. Every wait is bounded; everything talks to 127.0.0.1 only.
//
//   scale_bench --reactord build/release/server/reactord
//               --holder build/release/tests/scale/client_holder [--connections 19000]
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "reactord/v1/reactord.grpc.pb.h"
#include "scale_harness.h"

namespace {

namespace v1 = reactord::v1;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Series {
  std::string name;
  double target_ms = 0;
  std::string size;  // what one call returned
  std::vector<double> ms;
  double at(double q) const {
    auto v = ms;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  }
};

std::unique_ptr<grpc::ClientContext> ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + 60s);
  return c;
}

// GET /metrics on a fresh connection, read to EOF; the body's size, or -1.
long scrape(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  long size = -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET /metrics HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    char buf[65536];
    auto end = Clock::now() + 10s;
    while (Clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      response.append(buf, static_cast<std::size_t>(n));
    }
    if (response.rfind("HTTP/1.1 200", 0) == 0) {
      size = static_cast<long>(response.size() - response.find("\r\n\r\n") - 4);
    }
  }
  ::close(fd);
  return size;
}

std::uint64_t connections(v1::Inspect::Stub& stub) {
  v1::ServerInfo info;
  return stub.GetServerInfo(ctx().get(), {}, &info).ok() ? info.connections() : 0;
}

bool wait_for_connections(v1::Inspect::Stub& stub, std::uint64_t n) {
  auto end = Clock::now() + 120s;
  while (Clock::now() < end) {
    if (connections(stub) == n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// The clients, from source addresses 127.0.ROUND.2 ... (at most 10,000 each; a fresh address
// per round, so that no new client meets an old one's TIME_WAIT).
bool open_clients(reactord::scale::ClientHolder& holder, int n, int round) {
  for (int i = 0, left = n; left > 0; ++i) {
    int batch = std::min(left, 10000);
    std::string group = "r" + std::to_string(round) + "g" + std::to_string(i);
    std::string reply = holder.command("open " + group + " " + std::to_string(batch) + " 127.0." +
                                       std::to_string(round) + "." + std::to_string(2 + i));
    if (reply != "ok " + std::to_string(batch)) {
      std::fprintf(stderr, "scale_bench: opening clients: %s\n", reply.c_str());
      return false;
    }
    left -= batch;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scale_bench: control plane latency at 19,000 connections"};
  std::string reactord_bin, holder_bin, json_out;
  int n = 19000, samples = 30, close_rounds = 4;
  app.add_option("--reactord", reactord_bin, "reactord binary")->required();
  app.add_option("--holder", holder_bin, "client_holder binary")->required();
  app.add_option("--connections", n, "Clients to hold")
      ->capture_default_str()
      ->check(CLI::Range(1000, 19000));
  app.add_option("--samples", samples, "Calls per measurement")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--close-rounds", close_rounds,
                 "Times every client is opened and closed (graceful, abort, graceful, ...)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  app.add_option("--json-out", json_out, "Also write the figures here");
  CLI11_PARSE(app, argc, argv);

  reactord::scale::ReactordProcess reactord(
      reactord_bin, {"--loops", "2", "--max-connections", "19500", "--idle-timeout", "0"});
  if (!reactord.ready()) {
    std::fprintf(stderr, "scale_bench: reactord did not start:\n%s\n", reactord.log().c_str());
    return 1;
  }
  auto channel = grpc::CreateChannel(reactord.control, grpc::InsecureChannelCredentials());
  auto inspect = v1::Inspect::NewStub(channel);
  auto control = v1::Control::NewStub(channel);
  reactord::scale::ClientHolder holder(holder_bin, reactord.data_port);

  Series page{"ListConnections, a page of 1000", 20, {}, {}};
  Series events{"ListEvents, every event", 100, {}, {}};
  Series metrics{"GET /metrics", 10, {}, {}};
  Series close{"CloseConnections of every client by filter, graceful, wait", 1000, {}, {}};
  Series abort{"CloseConnections of every client by filter, abort, wait", 1000, {}, {}};
  for (int round = 0; round < close_rounds; ++round) {
    if (!open_clients(holder, n, round) || !wait_for_connections(*inspect, n)) return 1;
    if (round == 0) {
      // Pages from every part of the id range: start ids spread over the listing.
      std::vector<std::uint64_t> starts;
      v1::ListConnectionsRequest request;
      request.set_max_results(1000);
      for (;;) {
        v1::ListConnectionsResponse out;
        if (!inspect->ListConnections(ctx().get(), request, &out).ok()) return 1;
        if (out.connections_size() == 0) break;
        starts.push_back(out.connections(0).id());
        if (out.end()) break;
        request.set_start_id(out.connections(out.connections_size() - 1).id() + 1);
      }
      for (int i = 0; i < samples; ++i) {
        v1::ListConnectionsRequest r;
        r.set_max_results(1000);
        r.set_start_id(starts[static_cast<std::size_t>(i) % starts.size()]);
        v1::ListConnectionsResponse out;
        auto t = Clock::now();
        if (!inspect->ListConnections(ctx().get(), r, &out).ok()) return 1;
        page.ms.push_back(ms_since(t));
        page.size = std::to_string(out.connections_size()) + " connections, " +
                    std::to_string(out.ByteSizeLong() / 1024) + " KiB";
      }
      for (int i = 0; i < samples; ++i) {
        v1::ListEventsResponse out;
        grpc::ClientContext c;
        c.set_deadline(std::chrono::system_clock::now() + 60s);
        auto t = Clock::now();
        auto status = inspect->ListEvents(&c, {}, &out);
        if (!status.ok()) {
          std::fprintf(stderr, "scale_bench: ListEvents: %s\n", status.error_message().c_str());
          return 1;
        }
        events.ms.push_back(ms_since(t));
        events.size = std::to_string(out.events_size()) + " events, " +
                      std::to_string(out.ByteSizeLong() / 1024) + " KiB";
      }
      for (int i = 0; i < samples; ++i) {
        auto t = Clock::now();
        long size = scrape(reactord.metrics);
        if (size < 0) return 1;
        metrics.ms.push_back(ms_since(t));
        metrics.size = std::to_string(size / 1024) + " KiB";
      }
    }
    // Even rounds close gracefully (FIN, then the client's FIN: the clients' reaction is in
    // the figure), odd rounds reset.
    const bool graceful = round % 2 == 0;
    v1::CloseConnectionsRequest request;
    request.mutable_filter()->set_peer("127.0.0.0/8");
    request.set_mode(graceful ? v1::CLOSE_MODE_GRACEFUL : v1::CLOSE_MODE_ABORT);
    request.set_wait(true);
    v1::CloseConnectionsResponse out;
    auto t = Clock::now();
    auto status = control->CloseConnections(ctx().get(), request, &out);
    double took = ms_since(t);
    if (!status.ok() || out.closed() != static_cast<std::uint32_t>(n)) {
      std::fprintf(stderr, "scale_bench: close: %s, %u of %d closed\n", status.error_message().c_str(),
                   out.closed(), n);
      return 1;
    }
    Series& series = graceful ? close : abort;
    series.ms.push_back(took);
    series.size = std::to_string(out.closed()) + " closed";
    if (!wait_for_connections(*inspect, 0)) return 1;
  }

  std::ostringstream table;
  table << "| operation (" << n << " connections, 2 loops) | returned | samples | p50 ms | p90 ms"
        << " | max ms | target ms |\n|---|---|---|---|---|---|---|\n";
  std::ostringstream json;
  json << "{\"connections\": " << n << ", \"results\": [";
  bool first = true;
  for (const Series* s : {&page, &events, &metrics, &close, &abort}) {
    if (s->ms.empty()) continue;
    char row[512];
    std::snprintf(row, sizeof row, "| %s | %s | %zu | %.2f | %.2f | %.2f | %.0f |\n", s->name.c_str(),
                  s->size.c_str(), s->ms.size(), s->at(0.5), s->at(0.9), s->at(1.0), s->target_ms);
    table << row;
    json << (first ? "" : ", ") << "{\"name\": \"" << s->name << "\", \"p50_ms\": " << s->at(0.5)
         << ", \"p90_ms\": " << s->at(0.9) << ", \"max_ms\": " << s->at(1.0)
         << ", \"target_ms\": " << s->target_ms << "}";
    first = false;
  }
  json << "]}\n";
  std::fputs(table.str().c_str(), stdout);
  if (!json_out.empty()) std::ofstream(json_out) << json.str();
  return 0;
}
