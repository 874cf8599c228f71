#include "channelz_service.h"

#include <google/protobuf/util/json_util.h>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>

#include "grpc/channelz/v1/channelz.grpc.pb.h"
#include "handler_steps.h"

namespace reactord::control {

namespace {

namespace cz = grpc::channelz::v1;

class Channelz final : public cz::Channelz::Service {
 public:
  explicit Channelz(const ControlPlaneState& plane) : plane_(plane) {}

  grpc::Status GetTopChannels(grpc::ServerContext* ctx, const cz::GetTopChannelsRequest* request,
                              cz::GetTopChannelsResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_top_channels(request->start_channel_id()); }, response);
  }
  grpc::Status GetServers(grpc::ServerContext* ctx, const cz::GetServersRequest* request,
                          cz::GetServersResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_servers(request->start_server_id()); }, response);
  }
  grpc::Status GetServer(grpc::ServerContext* ctx, const cz::GetServerRequest* request,
                         cz::GetServerResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_server(request->server_id()); }, response);
  }
  grpc::Status GetServerSockets(grpc::ServerContext* ctx, const cz::GetServerSocketsRequest* request,
                                cz::GetServerSocketsResponse* response) override {
    return answer(
        ctx,
        [&] {
          return grpc_channelz_get_server_sockets(request->server_id(), request->start_socket_id(),
                                                  request->max_results());
        },
        response);
  }
  grpc::Status GetChannel(grpc::ServerContext* ctx, const cz::GetChannelRequest* request,
                          cz::GetChannelResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_channel(request->channel_id()); }, response);
  }
  grpc::Status GetSubchannel(grpc::ServerContext* ctx, const cz::GetSubchannelRequest* request,
                             cz::GetSubchannelResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_subchannel(request->subchannel_id()); }, response);
  }
  grpc::Status GetSocket(grpc::ServerContext* ctx, const cz::GetSocketRequest* request,
                         cz::GetSocketResponse* response) override {
    return answer(
        ctx, [&] { return grpc_channelz_get_socket(request->socket_id()); }, response);
  }

 private:
  // The token is checked first; then gRPC core's JSON (`query` returns it, owned here) is read
  // into the response as gRPC's own channelz service does.
  template <typename Query>
  grpc::Status answer(grpc::ServerContext* ctx, Query query, google::protobuf::Message* response) {
    Role role = Role::kNone;
    if (auto s = authorize(plane_, ctx, Role::kAdmin, &role); !s.ok()) return s;
    std::unique_ptr<char, void (*)(void*)> owned(query(), gpr_free);
    if (owned == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "channelz returned nothing");
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto status = google::protobuf::util::JsonStringToMessage(owned.get(), response, options);
    if (!status.ok()) {
      // gRPC core answers "not found" as JSON without the expected field.
      return grpc::Status(grpc::StatusCode::INTERNAL, "channelz: " + std::string(status.message()));
    }
    return grpc::Status::OK;
  }

  const ControlPlaneState& plane_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_channelz_service(const ControlPlaneState& plane) {
  return std::make_unique<Channelz>(plane);
}

}  // namespace reactord::control
