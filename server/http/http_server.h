// HttpServer: a small, bounded HTTP/1.1 server on our reactor — libevent's evhttp — for
// reactord's /metrics and status page (it replaces civetweb, which Debian 12 builds without
// IPv6 and which spends a thread per connection). One thread with its own EventBase; a Listener
// on any SocketAddress (IPv4 or IPv6); one BufferEvent per connection (HttpConnection).
//
// Serves GET and HEAD (other methods: 405), keep-alive and pipelining (answers in order, one
// at a time: the next request is parsed only when the previous answer has left the output
// buffer, so a client that never reads holds at most one answer), "Connection: close", and
// refuses request bodies (Transfer-Encoding: 501, Content-Length > 0: 413). Every bound is in
// HttpLimits; docs/RELIABILITY.md lists them with their flags.
//
// libevent → here: evhttp_new + evhttp_bind_socket_with_handle → HttpServer(address, limits),
// evhttp_set_cb → set_cb, (prefix routes: evhttp has none; evhttp_set_gencb is the "/" prefix)
// → set_prefix_cb, evhttp_set_max_headers_size → HttpLimits::max_header_bytes,
// evhttp_set_timeout → request_timeout / idle_timeout, evhttp_set_max_connections (2.2) →
// max_connections, evhttp_set_allowed_methods → GET|HEAD only, evhttp_free → destructor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "reactor/clock.h"
#include "reactor/socket_address.h"
#include "server/http/http_request.h"

namespace reactord::http {

struct HttpLimits {
  std::size_t max_header_bytes = 8192;  // request line + headers (more: 431, or 414)
  std::size_t max_headers = 64;         // header lines (more: 431)
  // From a request's first byte to the end of its head (slow loris); also how long a pending
  // answer may make no progress (a client that does not read). Then the connection is closed.
  reactor::Duration request_timeout = std::chrono::seconds(5);
  // Keep-alive: a connection waiting for its next request without a byte is closed after this.
  reactor::Duration idle_timeout = std::chrono::seconds(30);
  // Connections open at once. At the cap, the connection that has waited longest for a request
  // (idle keep-alive, silent, or a head still arriving) is closed to make room (counted as
  // evicted); if every connection is being answered, the new one gets 503 and is closed.
  std::size_t max_connections = 64;
};

// Counters since start. Any thread.
struct HttpStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;                  // answered by a handler (any status)
  std::uint64_t rejected_max_connections = 0;  // 503 at accept (every connection being answered)
  std::uint64_t evicted = 0;           // waiting for a request, closed at the cap to make room for a new one
  std::uint64_t request_timeouts = 0;  // head not complete by request_timeout (slow loris)
  std::uint64_t idle_timeouts = 0;     // keep-alive connection closed for idleness
  std::uint64_t write_timeouts = 0;    // an answer made no progress for request_timeout
  std::uint64_t bad_requests = 0;      // 400/405/413/414/431/501/505 answered by us
};

// The handler runs on the server's thread and must not block for long: requests of every
// connection wait behind it.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Binds and listens (on the calling thread). Throws std::runtime_error "NAME: cannot listen
  // on ADDR: reason". Not serving until start(). Any thread.
  HttpServer(std::string name, const reactor::SocketAddress& listen, HttpLimits limits = {});
  // Stops the thread; connections are closed. Any thread but the server's own.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes, before start(): an exact path, or every path under a prefix (the longest matching
  // prefix wins; exact paths first). No route: 404. Not thread-safe: before start() only.
  void set_cb(std::string path, HttpHandler handler);
  void set_prefix_cb(std::string prefix, HttpHandler handler);
  // Headers every answer carries, the server's own (404, 405, 431, ...) included. Before start().
  void set_common_headers(std::vector<std::pair<std::string, std::string>> headers);

  // Starts the server's thread. Once.
  void start();

  // The bound address (port 0 resolved). Any thread.
  const reactor::SocketAddress& address() const;
  std::uint16_t port() const { return address().port(); }

  HttpStats stats() const;
  // Bytes queued in every connection's output (answers not yet taken by the kernel): a client
  // that does not read holds at most one answer. Waits for the server's thread. Any thread but
  // the server's own.
  std::size_t queued_output_bytes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactord::http
