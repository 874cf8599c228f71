#include "server/http/http_server.h"

#include <algorithm>
#include <future>
#include <stdexcept>
#include <system_error>

#include "server/http/http_connection.h"
#include "server/http/http_server_impl.h"
#include "server/thread_name.h"

namespace reactord::http {

HttpServer::HttpServer(std::string name, const reactor::SocketAddress& listen, HttpLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->limits = limits;
  impl_->base = std::make_unique<reactor::EventBase>();
  try {
    impl_->listener = std::make_unique<reactor::Listener>(
        *impl_->base, listen, reactor::kLevOptReuseable, -1,
        [impl = impl_.get()](reactor::UniqueFd fd, const reactor::SocketAddress&) {
          impl->accept(std::move(fd));
        });
  } catch (const std::system_error& e) {
    throw std::runtime_error(impl_->name + ": cannot listen on " + listen.to_string() + ": " +
                             e.code().message());
  }
  impl_->address = impl_->listener->local_address();
}

HttpServer::~HttpServer() {
  if (impl_->thread.joinable()) {
    {
      std::lock_guard lock(impl_->base_mutex);
      if (impl_->base_alive) impl_->base->loopexit();
    }
    impl_->thread.join();
  } else {
    impl_->connections.clear();
    impl_->listener.reset();
    impl_->base.reset();
  }
}

void HttpServer::set_cb(std::string path, HttpHandler handler) {
  impl_->exact_routes[std::move(path)] = std::move(handler);
}

void HttpServer::set_prefix_cb(std::string prefix, HttpHandler handler) {
  auto& routes = impl_->prefix_routes;
  routes.emplace_back(std::move(prefix), std::move(handler));
  std::stable_sort(routes.begin(), routes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void HttpServer::set_common_headers(std::vector<std::pair<std::string, std::string>> headers) {
  impl_->common_headers = std::move(headers);
}

void HttpServer::start() {
  impl_->thread = std::thread([impl = impl_.get()] {
    name_this_thread(impl->name);  // "rd-metrics", "rd-status-page"
    impl->run();
  });
}

const reactor::SocketAddress& HttpServer::address() const { return impl_->address; }

HttpStats HttpServer::stats() const {
  const auto& c = impl_->counters;
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  HttpStats s;
  s.connections_accepted = get(c.accepted);
  s.connections_open = get(c.open);
  s.requests = get(c.requests);
  s.rejected_max_connections = get(c.rejected_max_connections);
  s.request_timeouts = get(c.request_timeouts);
  s.idle_timeouts = get(c.idle_timeouts);
  s.evicted = get(c.evicted);
  s.write_timeouts = get(c.write_timeouts);
  s.bad_requests = get(c.bad_requests);
  return s;
}

std::size_t HttpServer::queued_output_bytes() const {
  auto promise = std::make_shared<std::promise<std::size_t>>();
  auto future = promise->get_future();
  {
    std::lock_guard lock(impl_->base_mutex);
    if (!impl_->base_alive || !impl_->thread.joinable()) return 0;
    impl_->base->post([impl = impl_.get(), promise] {
      std::size_t total = 0;
      for (auto& [raw, connection] : impl->connections) total += connection->queued_output_bytes();
      promise->set_value(total);
    });
  }
  return future.get();
}

void HttpServer::Impl::run() {
  try {
    base->loop(reactor::kLoopNoExitOnEmpty);
  } catch (...) {
    // Nothing a request does throws out of a callback; if the loop itself fails, the server
    // stops serving rather than ending the process.
  }
  std::lock_guard lock(base_mutex);
  base_alive = false;
  connections.clear();
  listener.reset();
  base.reset();
}

void HttpServer::Impl::accept(reactor::UniqueFd fd) {
  counters.accepted.fetch_add(1, std::memory_order_relaxed);
  bool over = serving >= limits.max_connections;
  if (over) {
    // At the cap, a connection that waits for a request (idle keep-alive, a silent client, a
    // slow loris) gives its place to the new one: idle or slow connections cannot lock scrapes
    // out. Only when every connection is being answered is the new one refused.
    if (HttpConnection* victim = longest_waiting()) {
      victim->evict();  // released at once: serving drops by one
      over = false;
    }
  }
  if (over) {
    counters.rejected_max_connections.fetch_add(1, std::memory_order_relaxed);
    // At most as many 503 answers in flight as connections served; beyond that, just close.
    if (rejecting >= limits.max_connections) return;  // fd closed here
  }
  auto connection = std::make_unique<HttpConnection>(*this, std::move(fd), over);
  HttpConnection* raw = connection.get();
  connections.emplace(raw, std::move(connection));
  if (over) {
    ++rejecting;
  } else {
    ++serving;
    counters.open.fetch_add(1, std::memory_order_relaxed);
  }
  raw->start();
}

HttpConnection* HttpServer::Impl::longest_waiting() {
  HttpConnection* oldest = nullptr;
  for (const auto& [raw, connection] : connections) {
    if (raw->rejecting() || !raw->evictable()) continue;
    if (oldest == nullptr || raw->waiting_since() < oldest->waiting_since()) oldest = raw;
  }
  return oldest;
}

HttpResponse HttpServer::Impl::route(const HttpRequest& request) {
  if (auto it = exact_routes.find(request.path); it != exact_routes.end()) return it->second(request);
  for (const auto& [prefix, handler] : prefix_routes) {
    if (request.path.compare(0, prefix.size(), prefix) == 0) return handler(request);
  }
  return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
}

void HttpServer::Impl::release(HttpConnection* connection) {
  auto node = connections.extract(connection);
  if (node.empty()) return;
  if (connection->rejecting()) {
    --rejecting;
  } else {
    --serving;
    counters.open.fetch_sub(1, std::memory_order_relaxed);
  }
  base->defer_delete(std::move(node.mapped()));
}

}  // namespace reactord::http
