#include "status_api.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <charconv>
#include <chrono>

#include "reactord/v1/reactord.grpc.pb.h"
#include "server/log_format.h"

namespace reactord::status {

namespace v1 = reactord::v1;

namespace {

constexpr std::uint32_t kMaxPage = 200;
constexpr auto kDeadline = std::chrono::seconds(5);

ApiResponse error(int http_status, const std::string& message) {
  std::string json = "{\"error\":\"";
  append_json_string(message, json);
  json += "\"}";
  return {http_status, std::move(json)};
}

template <typename T>
bool parse_number(const std::string& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

int http_status_for(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 503;
  }
}

}  // namespace

struct StatusApi::Impl {
  std::unique_ptr<v1::Inspect::Stub> stub;

  template <typename Request, typename Response, typename Call>
  ApiResponse call(const Request& request, Call method, const std::string& authorization) const {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kDeadline);
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    Response response;
    grpc::Status status = (stub.get()->*method)(&context, request, &response);
    if (!status.ok()) return error(http_status_for(status.error_code()), status.error_message());
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    ApiResponse out;
    if (!google::protobuf::util::MessageToJsonString(response, &out.json, options).ok()) {
      return error(500, "cannot encode the answer as JSON");
    }
    return out;
  }
};

StatusApi::StatusApi(std::shared_ptr<grpc::Channel> channel) : impl_(std::make_unique<Impl>()) {
  impl_->stub = v1::Inspect::NewStub(std::move(channel));
}

StatusApi::~StatusApi() = default;

ApiResponse StatusApi::get(const std::string& resource, const Params& param,
                           const std::string& authorization) const {
  using Stub = v1::Inspect::Stub;
  if (resource == "info.json") {
    return impl_->call<v1::GetServerInfoRequest, v1::ServerInfo>(v1::GetServerInfoRequest(),
                                                                 &Stub::GetServerInfo, authorization);
  }
  if (resource == "stats.json") {
    return impl_->call<v1::GetLoopStatsRequest, v1::GetLoopStatsResponse>(v1::GetLoopStatsRequest(),
                                                                          &Stub::GetLoopStats, authorization);
  }
  if (resource == "events.json") {
    v1::ListEventsRequest request;
    if (auto loop = param("loop"); loop && !loop->empty()) {
      std::uint32_t n = 0;
      if (!parse_number(*loop, n)) return error(400, "loop: expected a loop number");
      request.set_loop(n);
    }
    return impl_->call<v1::ListEventsRequest, v1::ListEventsResponse>(request, &Stub::ListEvents,
                                                                      authorization);
  }
  if (resource == "connections.json") {
    v1::ListConnectionsRequest request;
    request.set_max_results(50);
    if (auto v = param("start_id"); v && !v->empty()) {
      std::uint64_t n = 0;
      if (!parse_number(*v, n)) return error(400, "start_id: expected a connection id");
      request.set_start_id(n);
    }
    if (auto v = param("max_results"); v && !v->empty()) {
      std::uint32_t n = 0;
      if (!parse_number(*v, n) || n == 0 || n > kMaxPage) {
        return error(400, "max_results: expected 1 to " + std::to_string(kMaxPage));
      }
      request.set_max_results(n);
    }
    v1::ConnectionFilter* filter = request.mutable_filter();
    if (auto v = param("peer"); v && !v->empty()) filter->set_peer(*v);
    if (auto v = param("loop"); v && !v->empty()) {
      std::uint32_t n = 0;
      if (!parse_number(*v, n)) return error(400, "loop: expected a loop number");
      filter->set_loop(n);
    }
    if (auto v = param("min_idle_ms"); v && !v->empty()) {
      std::int64_t n = 0;
      if (!parse_number(*v, n) || n < 0) return error(400, "min_idle_ms: expected milliseconds >= 0");
      filter->set_min_idle_ms(n);
    }
    if (auto v = param("state"); v && !v->empty()) {
      if (*v == "open")
        filter->set_state(v1::CONNECTION_STATE_OPEN);
      else if (*v == "read_paused")
        filter->set_state(v1::CONNECTION_STATE_READ_PAUSED);
      else if (*v == "closing")
        filter->set_state(v1::CONNECTION_STATE_CLOSING);
      else if (*v == "draining")
        filter->set_state(v1::CONNECTION_STATE_DRAINING);
      else
        return error(400, "state: expected open, read_paused, closing or draining");
    }
    return impl_->call<v1::ListConnectionsRequest, v1::ListConnectionsResponse>(
        request, &Stub::ListConnections, authorization);
  }
  return error(404, "no such resource: " + resource);
}

}  // namespace reactord::status
