// The two versions of gRPC server reflection that reactord serves (grpc.reflection.v1 and its
// predecessor v1alpha, same messages under two packages) as type bundles, so that one template
// serves (server/control/reflection_service.cc) or asks (tests/control/channelz_reflection_test.cc)
// both. Stubs generated from Debian's grpc-proto (reactord_grpc_ext_proto).
#pragma once

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace reactord::reflection {

struct V1 {
  using ServerReflection = grpc::reflection::v1::ServerReflection;
  using ServerReflectionRequest = grpc::reflection::v1::ServerReflectionRequest;
  using ServerReflectionResponse = grpc::reflection::v1::ServerReflectionResponse;
};
struct V1Alpha {
  using ServerReflection = grpc::reflection::v1alpha::ServerReflection;
  using ServerReflectionRequest = grpc::reflection::v1alpha::ServerReflectionRequest;
  using ServerReflectionResponse = grpc::reflection::v1alpha::ServerReflectionResponse;
};

}  // namespace reactord::reflection
