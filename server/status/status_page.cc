#include "status_page.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

#include "server/http/http_server.h"
#include "status_api.h"
#include "status_assets.h"

namespace reactord::status {

namespace {

// The first line of a token file, trimmed (as the control plane reads it).
std::string read_token(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error("status page: cannot read token file " + path);
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  return first == std::string::npos ? "" : line.substr(first, last - first + 1);
}

// The page's files: "/" is index.html; anything else unknown is 404.
http::HttpResponse serve_asset(const http::HttpRequest& request) {
  std::string_view path = request.path;
  if (path == "/") path = "/index.html";
  for (const Asset& asset : assets()) {
    if (asset.path == path) return {200, std::string(asset.content_type), std::string(asset.body), {}};
  }
  return {404, "text/plain; charset=utf-8", "not found\n", {}};
}

// /api/*.json: the Inspect RPCs with the caller's token, or on loopback the page's own.
class ApiHandler {
 public:
  ApiHandler(std::shared_ptr<grpc::Channel> channel, std::string default_authorization, bool require_token)
      : api_(std::move(channel)),
        default_authorization_(std::move(default_authorization)),
        require_token_(require_token) {}

  http::HttpResponse get(const http::HttpRequest& request) const {
    std::string resource = request.path.substr(std::string_view("/api/").size());
    const std::string* header = request.header("Authorization");
    std::string authorization = header ? *header : "";
    if (authorization.empty()) {
      if (require_token_)
        return {401, "application/json", "{\"error\":\"a viewer or admin token is required\"}", {}};
      authorization = default_authorization();
    }
    auto param = [&](const char* name) { return request.query_param(name); };
    ApiResponse response = api_.get(resource, param, authorization);
    return {response.http_status, "application/json", std::move(response.json), {}};
  }

  std::string default_authorization() const {
    std::lock_guard lock(mutex_);
    return default_authorization_;
  }
  // A reload's new token (any thread); requests read it under the same lock.
  void set_default_authorization(std::string value) {
    std::lock_guard lock(mutex_);
    default_authorization_ = std::move(value);
  }

 private:
  StatusApi api_;
  mutable std::mutex mutex_;
  std::string default_authorization_;
  bool require_token_;
};

}  // namespace

struct StatusPage::Impl {
  StatusPageOptions options;
  std::unique_ptr<ApiHandler> api;
  std::unique_ptr<http::HttpServer> http;  // declared after the handler: stopped before it goes
  std::uint16_t port = 0;
};

StatusPage::StatusPage(StatusPageOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

StatusPage::~StatusPage() { stop(); }

void StatusPage::start(Server&) {
  const StatusPageOptions& o = impl_->options;
  if (!o.listen) return;
  const std::string admin = read_token(o.token_file);
  const std::string viewer = read_token(o.viewer_token_file);
  const bool loopback = o.listen->is_loopback();
  if (!loopback && admin.empty() && viewer.empty()) {
    throw std::runtime_error("status page: --http-listen " + o.listen->to_string() +
                             " is not a loopback address: it needs --control-viewer-token-file "
                             "(or --control-token-file)");
  }
  // On loopback the page reads with the least privilege configured.
  const std::string& own = !viewer.empty() ? viewer : admin;
  impl_->api = std::make_unique<ApiHandler>(o.channel(), own.empty() ? "" : "Bearer " + own, !loopback);
  // Our HTTP server (server/http) with its default bounds; a request waits for the control
  // plane's answer (StatusApi's RPC deadline), so the request deadline is longer than metrics'.
  http::HttpLimits limits;
  limits.request_timeout = std::chrono::seconds(10);
  limits.max_connections = 32;
  impl_->http = std::make_unique<http::HttpServer>("status page", *o.listen, limits);
  // Every answer (errors and 405 included): never cached, never sniffed or framed, scripts
  // only from the page itself. Any method but GET and HEAD is answered 405: read-only.
  impl_->http->set_common_headers({
      {"Cache-Control", "no-store"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
  });
  ApiHandler* api = impl_->api.get();
  impl_->http->set_prefix_cb("/api/", [api](const http::HttpRequest& request) { return api->get(request); });
  impl_->http->set_prefix_cb("/", serve_asset);
  impl_->http->start();
  impl_->port = impl_->http->port();
  spdlog::info("status page on http://{}/", impl_->http->address().to_string());
}

void StatusPage::stop() { impl_->http.reset(); }

std::vector<ReloadItem> StatusPage::reload() {
  if (!impl_->api) return {};
  const StatusPageOptions& o = impl_->options;
  ReloadItem item{"status.token", ReloadItem::Outcome::kUnchanged, ""};
  try {
    const std::string admin = read_token(o.token_file);
    const std::string viewer = read_token(o.viewer_token_file);
    // As the control plane: a file that holds no token keeps the old one.
    if ((!o.token_file.empty() && admin.empty()) || (!o.viewer_token_file.empty() && viewer.empty())) {
      throw std::runtime_error("a token file holds no token");
    }
    const std::string& own = !viewer.empty() ? viewer : admin;
    const std::string authorization = own.empty() ? "" : "Bearer " + own;
    if (authorization != impl_->api->default_authorization()) {
      impl_->api->set_default_authorization(authorization);
      item.outcome = ReloadItem::Outcome::kChanged;
      item.detail = "the page reads with the new token";
    }
  } catch (const std::exception& e) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = e.what();
  }
  return {item};
}

std::uint16_t StatusPage::port() const { return impl_->port; }

}  // namespace reactord::status
