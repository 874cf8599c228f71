// channelz and reflection on the real reactord binary: channelz answers only to the admin
// token on a token-protected control plane (it shows the operators' own sockets); reflection
// is served in both versions, grpc.reflection.v1 and v1alpha, without a token, as health is.
// (tests/control/reflection_client.py does the same with python3-grpcio as the peer.)
#include <gtest/gtest.h>

#include "control_test_util.h"
#include "daemon_process.h"
#include "grpc/channelz/v1/channelz.grpc.pb.h"
#include "reflection_versions.h"

namespace reactord::test_support {
namespace {

namespace cz = grpc::channelz::v1;

TEST(Channelz, NeedsTheAdminTokenOnATokenProtectedControlPlane) {
  Daemon d({"--control-token-file", temp_file("admin-tok\n"), "--control-viewer-token-file",
            temp_file("viewer-tok\n")});
  ASSERT_TRUE(d.ready()) << d.process.output();
  auto channelz = cz::Channelz::NewStub(d.channel());
  cz::GetServersResponse servers;
  EXPECT_EQ(channelz->GetServers(ctx().get(), {}, &servers).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(channelz->GetServers(ctx(5000ms, "wrong").get(), {}, &servers).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(channelz->GetServers(ctx(5000ms, "viewer-tok").get(), {}, &servers).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  cz::GetTopChannelsResponse channels;
  EXPECT_EQ(channelz->GetTopChannels(ctx().get(), {}, &channels).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  cz::GetServerSocketsRequest sockets_request;
  sockets_request.set_server_id(1);
  cz::GetServerSocketsResponse sockets;
  EXPECT_EQ(channelz->GetServerSockets(ctx().get(), sockets_request, &sockets).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  cz::GetSocketRequest socket_request;
  socket_request.set_socket_id(1);
  cz::GetSocketResponse socket;
  EXPECT_EQ(channelz->GetSocket(ctx().get(), socket_request, &socket).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // The admin sees the control plane's server and the calls it served (the refused ones above
  // among them). Its sockets: the HTTP/2 guard hands gRPC each connection as an fd, and gRPC
  // 1.51's AddInsecureChannelFromFd registers no channelz socket for it, so the list is empty
  // (reactord_control_h2_connections counts them; docs/RELIABILITY.md).
  auto status = channelz->GetServers(ctx(5000ms, "admin-tok").get(), {}, &servers);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(servers.server_size(), 1);
  EXPECT_GE(servers.server(0).data().calls_started(), 5);
  sockets_request.set_server_id(servers.server(0).ref().server_id());
  status = channelz->GetServerSockets(ctx(5000ms, "admin-tok").get(), sockets_request, &sockets);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

TEST(Channelz, OpenOnALoopbackControlPlaneWithoutTokens) {
  Daemon d;
  ASSERT_TRUE(d.ready()) << d.process.output();
  cz::GetServersResponse servers;
  auto status = cz::Channelz::NewStub(d.channel())->GetServers(ctx().get(), {}, &servers);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(servers.server_size(), 1);
}

template <typename Proto>
void reflection_answers(Daemon& d) {
  auto stub = Proto::ServerReflection::NewStub(d.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub->ServerReflectionInfo(&context);
  typename Proto::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  typename Proto::ServerReflectionResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  std::set<std::string> names;
  for (const auto& s : answer.list_services_response().service()) names.insert(s.name());
  for (const char* wanted :
       {"reactord.v1.Inspect", "reactord.v1.Control", "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_TRUE(names.count(wanted)) << wanted;
  }
  typename Proto::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("reactord.v1.Control");
  ASSERT_TRUE(stream->Write(symbol));
  ASSERT_TRUE(stream->Read(&answer));
  ASSERT_GE(answer.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(answer.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "reactord/v1/reactord.proto");
  typename Proto::ServerReflectionRequest missing;
  missing.set_file_containing_symbol("no.such.Service");
  ASSERT_TRUE(stream->Write(missing));
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_EQ(answer.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

using reflection::V1;
using reflection::V1Alpha;

TEST(Reflection, BothVersionsAnswerWithoutAToken) {
  Daemon d({"--control-token-file", temp_file("admin-tok\n")});
  ASSERT_TRUE(d.ready()) << d.process.output();
  reflection_answers<V1>(d);
  reflection_answers<V1Alpha>(d);
}

}  // namespace
}  // namespace reactord::test_support
