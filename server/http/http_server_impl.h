// HttpServer::Impl: the state the server's thread owns (EventBase, Listener, connections,
// routes) and the counters any thread reads. Private to server/http.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "reactor/event_base.h"
#include "reactor/listener.h"
#include "server/http/http_server.h"

namespace reactord::http {

class HttpConnection;

struct HttpServer::Impl {
  std::string name;
  HttpLimits limits;
  reactor::SocketAddress address;
  std::map<std::string, HttpHandler> exact_routes;
  std::vector<std::pair<std::string, HttpHandler>> prefix_routes;  // longest first
  std::vector<std::pair<std::string, std::string>> common_headers;

  // The server's thread owns these (created on the constructing thread before it starts).
  std::unique_ptr<reactor::EventBase> base;
  std::unique_ptr<reactor::Listener> listener;
  std::unordered_map<HttpConnection*, std::unique_ptr<HttpConnection>> connections;
  std::size_t serving = 0;               // connections that are not rejecting
  std::size_t rejecting = 0;             // connections closing with a 503
  std::uint64_t next_waiting_order = 0;  // HttpConnection::waiting_since()

  std::thread thread;
  std::mutex base_mutex;  // guards base_alive against the thread's teardown
  bool base_alive = true;

  struct Counters {
    std::atomic<std::uint64_t> accepted{0}, open{0}, requests{0}, rejected_max_connections{0},
        request_timeouts{0}, idle_timeouts{0}, write_timeouts{0}, bad_requests{0}, evicted{0};
  } counters;

  // Loop thread only.
  void accept(reactor::UniqueFd fd);
  HttpResponse route(const HttpRequest& request);
  // The connection that has waited longest for a request, if any (O(connections): only at the
  // cap).
  HttpConnection* longest_waiting();
  // The connection is done: destroyed at the end of this loop iteration. Idempotent.
  void release(HttpConnection* connection);
  void run();
};

}  // namespace reactord::http
