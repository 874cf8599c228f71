#include "status_page.h"

#include <CivetServer.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

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

// Headers every answer carries: never cached, never sniffed or framed, scripts only from
// the page itself.
void send(mg_connection* conn, int status, std::string_view type, std::string_view body, bool head) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "Connection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status), static_cast<int>(type.size()), type.data(),
            body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

// The page is read-only: any other method on any path is answered 405.
class ReadOnly : public CivetHandler {
 public:
  bool handlePost(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handlePatch(CivetServer*, mg_connection* conn) override { return refuse(conn); }

 private:
  static bool refuse(mg_connection* conn) {
    send(conn, 405, "text/plain; charset=utf-8", "the status page is read-only\n", false);
    return true;
  }
};

class AssetHandler final : public ReadOnly {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override { return serve(conn, false); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return serve(conn, true); }

 private:
  static bool serve(mg_connection* conn, bool head) {
    std::string_view uri = mg_get_request_info(conn)->local_uri;
    if (uri == "/") uri = "/index.html";
    for (const Asset& asset : assets()) {
      if (asset.path == uri) {
        send(conn, 200, asset.content_type, asset.body, head);
        return true;
      }
    }
    send(conn, 404, "text/plain; charset=utf-8", "not found\n", head);
    return true;
  }
};

class ApiHandler final : public ReadOnly {
 public:
  ApiHandler(std::shared_ptr<grpc::Channel> channel, std::string default_authorization, bool require_token)
      : api_(std::move(channel)),
        default_authorization_(std::move(default_authorization)),
        require_token_(require_token) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* request = mg_get_request_info(conn);
    std::string resource = request->local_uri;
    resource.erase(0, std::string_view("/api/").size());
    const char* header = mg_get_header(conn, "Authorization");
    std::string authorization = header ? header : "";
    if (authorization.empty()) {
      if (require_token_) {
        send(conn, 401, "application/json", "{\"error\":\"a viewer or admin token is required\"}", false);
        return true;
      }
      authorization = default_authorization();
    }
    const std::string query = request->query_string ? request->query_string : "";
    auto param = [&](const char* name) -> std::optional<std::string> {
      std::string value;
      if (!CivetServer::getParam(query, name, value)) return std::nullopt;
      return value;
    };
    ApiResponse response = api_.get(resource, param, authorization);
    send(conn, response.http_status, "application/json", response.json, false);
    return true;
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
  std::unique_ptr<AssetHandler> assets;
  std::unique_ptr<ApiHandler> api;
  std::unique_ptr<CivetServer> http;  // declared after the handlers: stopped before they go
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
  impl_->assets = std::make_unique<AssetHandler>();
  impl_->api = std::make_unique<ApiHandler>(o.channel(), own.empty() ? "" : "Bearer " + own, !loopback);
  const std::vector<std::string> civet_options = {
      "listening_ports", o.listen->to_string(), "num_threads", "4", "request_timeout_ms",
      "10000",           "enable_keep_alive",   "no"};
  try {
    impl_->http = std::make_unique<CivetServer>(civet_options);
  } catch (const std::exception& e) {
    throw std::runtime_error("status page: cannot listen on " + o.listen->to_string() + ": " + e.what());
  }
  impl_->http->addHandler("/api/", impl_->api.get());
  impl_->http->addHandler("/", impl_->assets.get());
  auto ports = impl_->http->getListeningPorts();
  impl_->port = ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
  reactor::SocketAddress bound = *o.listen;
  bound.set_port(impl_->port);
  spdlog::info("status page on http://{}/", bound.to_string());
}

void StatusPage::stop() {
  if (impl_->http) {
    impl_->http->close();
    impl_->http.reset();
  }
}

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
