// gRPC server reflection, both versions: grpc.reflection.v1 (what Postman, evans and newer
// grpcurl speak) and grpc.reflection.v1alpha (older tools), answered from the protobuf
// descriptors linked into reactord. gRPC 1.51's own plugin serves only v1alpha, and linking it
// next to a v1 copy of the messages aborts at start-up, so both are ours. Open to everyone, as
// health is (descriptors are no secret). Includes grpcpp: only control_plane.cc includes it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace reactord::control {

// The two reflection services; list_services answers `services` (plus the reflection services
// themselves). Register both on the builder; they must outlive the server.
std::vector<std::unique_ptr<grpc::Service>> make_reflection_services(std::vector<std::string> services);

}  // namespace reactord::control
