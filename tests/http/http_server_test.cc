// HttpServer over real sockets (IPv4 and IPv6): real clients (curl, Python's urllib) and
// clients that misbehave — slow loris, header floods, more connections than the cap,
// pipelining, a client that never reads a large answer.
#include "server/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_test_client.h"
#include "support/child_process.h"
#include "support/eventually.h"

namespace reactord::http {
namespace {

using namespace std::chrono_literals;
using test_support::HttpTestClient;
using test_support::run_command;
using test_support::RunResult;

using test_support::eventually;  // the server runs on its own thread: each wait polls up to 30 s

reactor::SocketAddress v4() { return reactor::SocketAddress::ipv4_loopback(0); }
reactor::SocketAddress v6() { return reactor::SocketAddress::ipv6_loopback(0); }

// A server with /hello (its path and query back) and /big (size bytes).
std::unique_ptr<HttpServer> make_server(const reactor::SocketAddress& at, HttpLimits limits = {},
                                        std::size_t big = 1 << 20) {
  auto server = std::make_unique<HttpServer>("test http", at, limits);
  server->set_cb("/hello", [](const HttpRequest& request) {
    return HttpResponse{
        200, "text/plain; charset=utf-8", "hello " + request.target + "\n", {{"X-Test", "yes"}}};
  });
  server->set_cb("/big", [big](const HttpRequest&) {
    return HttpResponse{200, "text/plain", std::string(big, 'b'), {}};
  });
  server->set_prefix_cb("/api/", [](const HttpRequest& request) {
    return HttpResponse{200, "application/json", "{\"api\":\"" + request.path + "\"}", {}};
  });
  server->start();
  return server;
}

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"; }

// The HTTP status curl (a real client) gets for `url` ("000" if it got no answer).
std::string curl_status(const std::string& url) {
  return run_command(
             {"/usr/bin/curl", "-g", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", url},
             30s)
      .out;
}

TEST(HttpServer, CurlGetsAndHeadsOnIpv4AndIpv6) {
  for (const auto& at : {v4(), v6()}) {
    auto server = make_server(at);
    const std::string url = at.is_ipv6() ? "http://[::1]:" + std::to_string(server->port())
                                         : "http://127.0.0.1:" + std::to_string(server->port());
    RunResult r =
        run_command({"/usr/bin/curl", "-g", "-s", "-f", "--max-time", "20", url + "/hello?x=1"}, 30s);
    EXPECT_EQ(r.exit_code, 0) << url;
    EXPECT_EQ(r.out, "hello /hello?x=1\n") << url;
    r = run_command({"/usr/bin/curl", "-g", "-s", "-f", "-I", "--max-time", "20", url + "/hello"}, 30s);
    EXPECT_EQ(r.exit_code, 0) << url;
    EXPECT_NE(r.out.find("Content-Length: 13"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("X-Test: yes"), std::string::npos) << r.out;
    EXPECT_EQ(curl_status(url + "/nothing"), "404") << url;
    r = run_command({"/usr/bin/curl", "-g", "-s", "--max-time", "20", url + "/api/a/b.json"}, 30s);
    EXPECT_EQ(r.out, "{\"api\":\"/api/a/b.json\"}") << url;
  }
}

TEST(HttpServer, PythonUrllibReadsOverIpv6) {
  auto server = make_server(v6());
  const std::string script =
      "import urllib.request; r = urllib.request.urlopen('http://[::1]:" + std::to_string(server->port()) +
      "/hello', timeout=20); print(r.status, r.read().decode().strip())";
  const RunResult r = run_command({"/usr/bin/python3", "-c", script}, 30s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "200 hello /hello\n");
}

TEST(HttpServer, PipelinedKeepAliveRequestsAreAnsweredInOrderOnOneConnection) {
  auto server = make_server(v4());
  HttpTestClient client(server->address());
  client.send_all(get("/hello?1") + "HEAD /hello?2 HTTP/1.1\r\n\r\n" + get("/hello?3") + get("/nothing"));
  auto first = client.read_response();
  auto second = client.read_response(/*head_only=*/true);
  auto third = client.read_response();
  auto fourth = client.read_response();
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(first->body, "hello /hello?1\n");
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->headers["content-length"], "15");
  EXPECT_EQ(third->body, "hello /hello?3\n");
  EXPECT_EQ(third->headers["connection"], "keep-alive");
  EXPECT_EQ(fourth->status, 404);
  // Still open: a later request on the same connection is answered too.
  client.send_all(get("/hello?5"));
  auto fifth = client.read_response();
  ASSERT_TRUE(fifth);
  EXPECT_EQ(fifth->body, "hello /hello?5\n");
  EXPECT_EQ(server->stats().connections_accepted, 1u);
}

TEST(HttpServer, ConnectionCloseAndHttp10AreHonoured) {
  auto server = make_server(v4());
  {
    HttpTestClient client(server->address());
    client.send_all("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->headers["connection"], "close");
    EXPECT_TRUE(client.wait_closed());
  }
  {
    HttpTestClient client(server->address());
    client.send_all("GET /hello HTTP/1.0\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "hello /hello\n");
    EXPECT_TRUE(client.wait_closed());
  }
}

TEST(HttpServer, OtherMethodsBodiesAndBadRequestsGetTheirStatus) {
  auto server = make_server(v6());
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST /hello HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 405},
      {"DELETE /api/x HTTP/1.1\r\n\r\n", 405},
      {"GET /hello HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 501},
      {"GET /hello HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413},
      {"this is not http\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
  };
  for (const Case& c : cases) {
    HttpTestClient client(server->address());
    client.send_all(c.request);
    auto response = client.read_response();
    ASSERT_TRUE(response) << c.request;
    EXPECT_EQ(response->status, c.status) << c.request;
    EXPECT_EQ(response->headers["connection"], "close") << c.request;
    if (c.status == 405) {
      EXPECT_EQ(response->headers["allow"], "GET, HEAD");
    }
    EXPECT_TRUE(client.wait_closed()) << c.request;
  }
  EXPECT_EQ(server->stats().bad_requests, cases.size());
}

TEST(HttpServer, AHeaderFloodGets431) {
  auto server = make_server(v4());
  {  // many small headers
    HttpTestClient client(server->address());
    std::string request = "GET /hello HTTP/1.1\r\n";
    for (int i = 0; i < 1000; ++i) request += "X-" + std::to_string(i) + ": y\r\n";
    client.try_send(request + "\r\n");  // the server may close before it has read everything
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
    EXPECT_TRUE(client.wait_closed());
  }
  {  // one endless header: refused once 8 KiB have arrived, not after the client stops
    HttpTestClient client(server->address());
    client.try_send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a'));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
  }
  // The server still answers.
  HttpTestClient client(server->address());
  client.send_all(get("/hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, ASlowLorisIsClosedAtTheRequestDeadlineWhileOtherScrapesAreAnswered) {
  HttpLimits limits;
  limits.request_timeout = 2s;
  auto server = make_server(v4(), limits);
  HttpTestClient loris(server->address(), 30000);
  std::atomic<bool> stop{false};
  std::atomic<int> bytes_sent{0};
  // A header byte at a time, one every 100 ms, never ending the head.
  std::thread sender([&] {
    const std::string request = "GET /hello HTTP/1.1\r\nX-Slow: " + std::string(10000, 'z');
    for (char c : request) {
      if (stop.load() || !loris.try_send(std::string(1, c))) break;
      bytes_sent.fetch_add(1);
      std::this_thread::sleep_for(100ms);
    }
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/hello";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_command({"/usr/bin/curl", "-s", "-f", "--max-time", "20", url}, 30s).out, "hello /hello\n");
  }
  // The loris gets a 408 and the connection ends, long before it could finish its 10 KB.
  auto response = loris.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(loris.wait_closed());
  stop.store(true);
  sender.join();
  EXPECT_LT(bytes_sent.load(), 10000);
  EXPECT_EQ(server->stats().request_timeouts, 1u);
}

TEST(HttpServer, AtTheCapTheConnectionWaitingLongestForARequestMakesRoom) {
  // Item 11 of issue #13: idle connections must not lock scrapes out. At the cap, each new
  // connection takes the place of the one that has waited longest for a request: silent,
  // idle keep-alive or a slow loris alike (nginx drains idle keep-alive connections so).
  HttpLimits limits;
  limits.max_connections = 4;
  limits.request_timeout = 30s;  // nothing closes them on its own during the test
  auto server = make_server(v6(), limits);
  auto open_is = [&](std::uint64_t n) {
    return eventually([&] { return server->stats().connections_open == n; }, 30s);
  };
  HttpTestClient silent_first(server->address());
  ASSERT_TRUE(open_is(1));
  HttpTestClient answered(server->address());
  answered.send_all(get("/hello"));
  ASSERT_TRUE(answered.read_response());  // then idle keep-alive: waiting since its answer
  HttpTestClient loris(server->address());
  ASSERT_TRUE(open_is(3));
  ASSERT_TRUE(loris.try_send("GET /hel"));  // a head that never ends
  HttpTestClient silent_last(server->address());
  ASSERT_TRUE(open_is(4));

  std::vector<std::unique_ptr<HttpTestClient>> newcomers;
  auto newcomer_is_served = [&] {
    newcomers.push_back(std::make_unique<HttpTestClient>(server->address()));
    newcomers.back()->send_all(get("/hello"));
    auto response = newcomers.back()->read_response();
    return response && response->status == 200;
  };
  EXPECT_TRUE(newcomer_is_served());
  EXPECT_TRUE(silent_first.wait_closed());
  EXPECT_TRUE(newcomer_is_served());
  EXPECT_TRUE(answered.wait_closed());
  EXPECT_TRUE(newcomer_is_served());
  EXPECT_TRUE(loris.wait_closed());
  EXPECT_EQ(server->stats().evicted, 3u);
  EXPECT_EQ(server->stats().rejected_max_connections, 0u);
  EXPECT_EQ(server->stats().connections_open, 4u);
  // A real client at the cap of idle connections: curl is served too.
  std::string code = curl_status("http://[::1]:" + std::to_string(server->port()) + "/hello");
  EXPECT_EQ(code, "200");
  EXPECT_TRUE(silent_last.wait_closed());
  EXPECT_EQ(server->stats().evicted, 4u);
}

TEST(HttpServer, WhenEveryConnectionIsBeingAnsweredANewOneGets503AndIsCounted) {
  HttpLimits limits;
  limits.max_connections = 4;
  limits.request_timeout = 60s;           // the stalled answers stay in progress during the test
  constexpr std::size_t kBig = 32 << 20;  // more than both sockets' buffers hold
  auto server = make_server(v6(), limits, kBig);
  std::vector<std::unique_ptr<HttpTestClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<HttpTestClient>(server->address(), 10000, 4096));
    held.back()->send_all(get("/big"));  // and never read: the answer stalls
  }
  ASSERT_TRUE(eventually(
      [&] { return server->stats().requests == 4 && server->stats().connections_open == 4; }, 30s));
  {
    HttpTestClient extra(server->address());
    extra.try_send(get("/hello"));
    auto response = extra.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 503);
    EXPECT_TRUE(extra.wait_closed());
  }
  std::string code = curl_status("http://[::1]:" + std::to_string(server->port()) + "/hello");
  EXPECT_EQ(code, "503");
  EXPECT_EQ(server->stats().rejected_max_connections, 2u);
  EXPECT_EQ(server->stats().evicted, 0u);
  // Once one leaves, a new client is served again.
  held.pop_back();
  ASSERT_TRUE(eventually([&] { return server->stats().connections_open == 3; }, 30s));
  HttpTestClient late(server->address());
  late.send_all(get("/hello"));
  auto response = late.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, AClientThatNeverReadsALargeAnswerHoldsAtMostOneAnswerAndIsClosed) {
  HttpLimits limits;
  limits.request_timeout = 2s;
  constexpr std::size_t kBig = 4 << 20;
  auto server = make_server(v4(), limits, kBig);
  HttpTestClient client(server->address(), 30000, 4096);
  // 200 pipelined requests for 4 MiB each (800 MiB if the server queued them all).
  std::string requests;
  for (int i = 0; i < 200; ++i) requests += get("/big");
  client.try_send(requests);
  ASSERT_TRUE(eventually([&] { return server->stats().requests >= 1; }, 30s));
  std::size_t most = 0;
  for (int i = 0; i < 20; ++i) {
    most = std::max(most, server->queued_output_bytes());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT(most, 0u);
  EXPECT_LE(most, kBig + 1024);
  EXPECT_EQ(server->stats().requests, 1u);
  // The answer makes no progress: closed after request_timeout without progress.
  ASSERT_TRUE(eventually([&] { return server->stats().write_timeouts == 1; }, 30s));
  EXPECT_EQ(server->queued_output_bytes(), 0u);
  EXPECT_TRUE(eventually([&] { return server->stats().connections_open == 0; }, 30s));
}

TEST(HttpServer, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  HttpLimits limits;
  limits.idle_timeout = 500ms;
  auto server = make_server(v4(), limits);
  HttpTestClient client(server->address());
  client.send_all(get("/hello"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(server->stats().idle_timeouts, 1u);
  // A connection that never sends a byte is closed after the request timeout.
  HttpLimits quick;
  quick.request_timeout = 500ms;
  auto second = make_server(v4(), quick);
  HttpTestClient silent(second->address());
  EXPECT_TRUE(silent.wait_closed());
  EXPECT_EQ(second->stats().request_timeouts, 1u);
}

TEST(HttpServer, ABusyPortIsAClearError) {
  auto server = make_server(v6());
  try {
    HttpServer second("test http", server->address());
    FAIL() << "bound a busy port";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot listen on [::1]:" + std::to_string(server->port())), std::string::npos)
        << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace reactord::http
