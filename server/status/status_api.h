// StatusApi: the status page's JSON, one Inspect RPC per resource, answered through a gRPC
// channel to the control plane (its in-process channel in reactord):
//   info.json         GetServerInfo
//   stats.json        GetLoopStats
//   connections.json  ListConnections  ?start_id= &max_results= (<= 200) &peer= &loop=
//                                      &state=open|read_paused|closing|draining &min_idle_ms=
//   events.json       ListEvents       ?loop=
// Bodies are protobuf's canonical JSON (lowerCamelCase, 64-bit integers as strings, zeros
// shown). The caller's bearer token is passed on, so the control plane's own token check
// decides; errors come back as {"error": "..."} with a matching HTTP status.
// No gRPC in this header. Any thread (each call makes its own RPC).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace grpc {
class Channel;
}

namespace reactord::status {

struct ApiResponse {
  int http_status = 200;
  std::string json;
};

class StatusApi {
 public:
  // param(name) gives a query parameter (nullopt when absent).
  using Params = std::function<std::optional<std::string>(const char* name)>;

  explicit StatusApi(std::shared_ptr<grpc::Channel> channel);
  ~StatusApi();

  // resource: "info.json", ...; authorization: the "Authorization" header value to send
  // (empty = none).
  ApiResponse get(const std::string& resource, const Params& param, const std::string& authorization) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reactord::status
