// StatusPage: reactord's live, read-only status page as a Server component, on
// --http-listen (default 127.0.0.1:9465; "off" disables it). GET / is the page (compiled-in
// HTML/JS/CSS, no build step, nothing fetched from elsewhere); GET /api/*.json is its data
// (StatusApi: the Inspect RPCs through the control plane's in-process channel).
//
// Who may read it: on a loopback address anyone on the host (as the control plane's loopback
// default), the page's API calls carrying the configured viewer (else admin) token. Beyond
// loopback reactord refuses to start unless a control token is configured, and every API call
// must bring a viewer or admin token ("Authorization: Bearer", which the page sends after
// being opened once as http://host:port/#token=...); the control plane checks it.
// No gRPC or HTTP server in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reactor/socket_address.h"
#include "server/component.h"

namespace grpc {
class Channel;
}

namespace reactord::status {

struct StatusPageOptions {
  std::optional<reactor::SocketAddress> listen;  // nullopt: no page
  std::string token_file;                        // the control plane's admin token file
  std::string viewer_token_file;                 // and its viewer token file
  // The channel to the control plane, asked for at start() (it has started by then).
  std::function<std::shared_ptr<grpc::Channel>()> channel;
};

class StatusPage final : public Component {
 public:
  explicit StatusPage(StatusPageOptions options);
  ~StatusPage() override;

  std::string name() const override { return "status page"; }
  // Checks the loopback/token rule, binds, serves. Throws std::runtime_error with one clear
  // line on any problem. Main thread.
  void start(Server& server) override;
  // Stops the HTTP threads. Main thread.
  void stop() override;
  // Reload: the token the page's own calls carry on loopback (status.token), re-read from the
  // control plane's token files. Any thread (Server::reload serialises).
  std::vector<ReloadItem> reload() override;

  // The bound port (after start; resolves port 0), 0 when off. Any thread.
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactord::status
