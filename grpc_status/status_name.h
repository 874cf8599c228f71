// gRPC status codes by the names gRPC uses in its own docs and tools. One table shared by the
// control plane (audit lines), the metrics interceptor (labels) and reactorctl (error lines).
#pragma once

#include <grpcpp/support/status.h>

namespace reactord {

// "OK", "NOT_FOUND", ...; "UNKNOWN" for a number gRPC does not define. Any thread.
const char* status_code_name(int code);
// The same for gRPC's enum. A number outside it cannot be held in one without undefined
// behaviour (grpc::StatusCode has no fixed underlying type): such numbers take the int form.
inline const char* status_code_name(grpc::StatusCode code) {
  return status_code_name(static_cast<int>(code));
}

}  // namespace reactord
