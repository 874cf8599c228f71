// HttpConnection: one client of an HttpServer (libevent's evhttp_connection on the server
// side): a BufferEvent, the request head being read, the deadline that bounds it, and the
// answer being sent. Private to server/http.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/unique_fd.h"
#include "server/http/http_request.h"
#include "server/http/http_server.h"

namespace reactord::http {

class HttpConnection final : public reactor::BufferEventHandler {
 public:
  // rejecting: the server is at max_connections; this one only gets a 503 and is closed.
  // Loop thread only (as every method).
  HttpConnection(HttpServer::Impl& server, reactor::UniqueFd fd, bool rejecting);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start();
  bool rejecting() const { return rejecting_; }
  // Waiting for a request (no byte yet, or a head still arriving): the server may take this
  // connection's place for a new one when it is at max_connections (nginx drains its idle
  // keep-alive connections the same way). Answering connections are never evicted.
  bool evictable() const { return phase_ == Phase::kIdle || phase_ == Phase::kReading; }
  // When it last started waiting for a request (the server's order, smaller is older).
  std::uint64_t waiting_since() const { return waiting_since_; }
  // Closes it (reset: nothing is owed to it) to make room; counted as evicted.
  void evict();
  std::size_t queued_output_bytes() { return bev_.closed() ? 0 : bev_.output().length(); }

  void on_read(reactor::BufferEvent& bev) override;
  void on_write(reactor::BufferEvent& bev) override;
  void on_event(reactor::BufferEvent& bev, reactor::BevFlags what, int error) override;

 private:
  // Waiting for a request's first byte, reading its head, or sending its answer.
  enum class Phase { kIdle, kReading, kAnswering, kClosing };

  // Parses and answers the next request in the input, if it is complete.
  void process();
  void answer(const HttpRequest& request);
  void send(int status, const HttpResponse& response, bool head_only, bool keep_alive);
  // An error of ours (400, 408, 431, ...): answer with a line of text, then close.
  void refuse(int status, const std::string& why);
  void arm_timer(reactor::Duration timeout);
  void on_timer();
  void close_gracefully();
  void close_abortively();

  HttpServer::Impl& server_;
  reactor::BufferEvent bev_;
  std::unique_ptr<reactor::Event> timer_;
  Phase phase_ = Phase::kIdle;
  bool rejecting_;
  bool peer_done_ = false;  // the peer half-closed: answer what is complete, then close
  std::size_t answered_ = 0;
  std::uint64_t waiting_since_ = 0;
};

}  // namespace reactord::http
