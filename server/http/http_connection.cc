#include "server/http/http_connection.h"

#include <algorithm>
#include <exception>
#include <new>
#include <string_view>

#include "server/http/http_server_impl.h"

namespace reactord::http {

HttpConnection::HttpConnection(HttpServer::Impl& server, reactor::UniqueFd fd, bool rejecting)
    : server_(server), bev_(*server.base, fd.release(), reactor::kBevOptCloseOnFree), rejecting_(rejecting) {}

HttpConnection::~HttpConnection() = default;

void HttpConnection::start() {
  waiting_since_ = server_.next_waiting_order++;
  bev_.setcb(this, reactor::kBevCbRead | reactor::kBevCbWrite | reactor::kBevCbEvent);
  if (rejecting_) {
    // Over max_connections: a 503 and a close, without reading a request.
    HttpResponse response{503, "text/plain; charset=utf-8", server_.name + ": too many connections\n", {}};
    response.headers.emplace_back("Retry-After", "1");
    send(503, response, false, false);
    close_gracefully();
    return;
  }
  // Input is read up to one head's worth: a client that pipelines while its answer waits
  // is not read further (backpressure), and a longer head is refused (431).
  bev_.set_read_watermarks(0, server_.limits.max_header_bytes);
  bev_.set_timeouts(std::nullopt, server_.limits.request_timeout);
  bev_.enable(reactor::kRead);
  timer_ = reactor::Event::timer(*server_.base, [this](int, reactor::EventFlags) { on_timer(); });
  arm_timer(server_.limits.request_timeout);  // the first request is awaited as long as one is read
}

void HttpConnection::arm_timer(reactor::Duration timeout) { timer_->add(timeout); }

void HttpConnection::on_read(reactor::BufferEvent&) {
  if (phase_ == Phase::kClosing) return;
  process();
}

void HttpConnection::on_write(reactor::BufferEvent&) {
  // The answer left the output buffer: the next pipelined request may be read.
  if (phase_ == Phase::kAnswering) {
    phase_ = Phase::kIdle;
    waiting_since_ = server_.next_waiting_order++;
  }
  if (phase_ != Phase::kClosing) process();
}

void HttpConnection::on_event(reactor::BufferEvent&, reactor::BevFlags what, int) {
  if (phase_ == Phase::kClosing) return;
  if (any(what & reactor::kBevTimeout)) {
    // An answer that made no progress for request_timeout: the client does not read.
    server_.counters.write_timeouts.fetch_add(1, std::memory_order_relaxed);
    close_abortively();
    return;
  }
  if (reactor::any(what & reactor::kBevEof) && !reactor::any(what & reactor::kBevError)) {
    // A half-close after the request is allowed: answer what arrived, then close.
    peer_done_ = true;
    process();
    return;
  }
  close_abortively();
}

void HttpConnection::process() {
  if (phase_ == Phase::kClosing || phase_ == Phase::kAnswering) return;
  if (!bev_.output().empty()) return;  // one answer at a time
  reactor::Buffer& input = bev_.input();
  if (input.empty()) {
    if (peer_done_) {
      close_gracefully();
    } else {
      // Keep-alive: wait for the next request (a fresh connection keeps its first deadline).
      phase_ = Phase::kIdle;
      if (answered_ > 0) arm_timer(server_.limits.idle_timeout);
    }
    return;
  }
  if (phase_ == Phase::kIdle) {
    // The request deadline counts from its first byte.
    phase_ = Phase::kReading;
    arm_timer(server_.limits.request_timeout);
  }
  const std::size_t window = std::min(input.length(), server_.limits.max_header_bytes);
  auto bytes = input.pullup(window);
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  HeadLimits head_limits{server_.limits.max_header_bytes, server_.limits.max_headers};
  ParsedHead head = parse_request_head(text, head_limits);
  switch (head.kind) {
    case ParsedHead::Kind::kIncomplete:
      if (peer_done_) close_gracefully();  // the peer left in the middle of a request
      return;
    case ParsedHead::Kind::kError:
      refuse(head.error_status, head.error);
      return;
    case ParsedHead::Kind::kComplete:
      input.drain(head.consumed);
      timer_->del();
      answer(head.request);
      return;
  }
}

void HttpConnection::answer(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response{405, "text/plain; charset=utf-8", "only GET and HEAD are served\n", {}};
    response.headers.emplace_back("Allow", "GET, HEAD");
    server_.counters.bad_requests.fetch_add(1, std::memory_order_relaxed);
    send(405, response, false, false);  // its body (if any) is not read: close
    close_gracefully();
    return;
  }
  if (request.has_transfer_encoding) {
    refuse(501, "request bodies (Transfer-Encoding) are not accepted");
    return;
  }
  if (request.content_length > 0) {
    refuse(413, "request bodies are not accepted");
    return;
  }
  HttpResponse response;
  try {
    response = server_.route(request);
  } catch (const std::bad_alloc&) {
    close_abortively();  // costs this client its connection, not the process
    return;
  } catch (const std::exception& e) {
    response =
        HttpResponse{500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n", {}};
  }
  server_.counters.requests.fetch_add(1, std::memory_order_relaxed);
  ++answered_;
  const bool keep_alive = request.keep_alive() && !peer_done_;
  send(response.status, response, request.is_head(), keep_alive);
  if (!keep_alive) {
    close_gracefully();
    return;
  }
  phase_ = Phase::kAnswering;
  // on_write runs once the answer has left the output buffer (at once, or when the client
  // reads); it then parses the next request.
}

void HttpConnection::send(int status, const HttpResponse& response, bool head_only, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  head += "Content-Type: " + response.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : response.headers)
    head.append(name).append(": ").append(value).append("\r\n");
  for (const auto& [name, value] : server_.common_headers)
    head.append(name).append(": ").append(value).append("\r\n");
  head += "\r\n";
  if (!head_only) {
    head += response.body;
  }
  bev_.write(head);
}

void HttpConnection::refuse(int status, const std::string& why) {
  server_.counters.bad_requests.fetch_add(1, std::memory_order_relaxed);
  send(status, HttpResponse{status, "text/plain; charset=utf-8", why + "\n", {}}, false, false);
  close_gracefully();
}

void HttpConnection::on_timer() {
  if (phase_ == Phase::kClosing) return;
  if (phase_ == Phase::kReading || answered_ == 0) {
    // No whole request head within request_timeout (a slow loris, or a silent connection).
    server_.counters.request_timeouts.fetch_add(1, std::memory_order_relaxed);
    if (phase_ == Phase::kReading) {
      server_.counters.bad_requests.fetch_add(1, std::memory_order_relaxed);
      send(408, HttpResponse{408, "text/plain; charset=utf-8", "request timeout\n", {}}, false, false);
    }
  } else {
    server_.counters.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
  }
  close_gracefully();
}

void HttpConnection::close_gracefully() {
  if (phase_ == Phase::kClosing) return;
  phase_ = Phase::kClosing;
  if (timer_) timer_->del();
  // Sends what is queued (an error answer), then FIN; bounded: a peer that stops reading is
  // reset after request_timeout without progress.
  HttpServer::Impl* server = &server_;
  HttpConnection* self = this;
  bev_.close_gracefully_unless_stalled(server_.limits.request_timeout,
                                       [server, self](bool) { server->release(self); });
}

void HttpConnection::evict() {
  server_.counters.evicted.fetch_add(1, std::memory_order_relaxed);
  close_abortively();
}

void HttpConnection::close_abortively() {
  phase_ = Phase::kClosing;
  if (timer_) timer_->del();
  bev_.close_abortively();
  server_.release(this);
}

}  // namespace reactord::http
