// GuardPeers: which client each guarded control connection really comes from. The HTTP/2
// guard (h2_guard.h) hands gRPC one end of a socketpair, so gRPC's ServerContext::peer() says
// "fd:N"; the audit log and the status page must name the real client ("ipv4:1.2.3.4:5678",
// the form gRPC uses). On the TLS control port the guard also terminates TLS, so gRPC has no
// auth context: the verified client certificate's common name (mTLS) travels here too.
// Process-wide, keyed by the fd number gRPC was given: gRPC holds that fd until the
// connection's last call is done, so the number is not reused meanwhile; a later connection
// given the same number overwrites the entry. Any thread.
#pragma once

#include <string>
#include <string_view>

namespace reactord::control {

// Records that gRPC's fd `fd` carries the client `peer` (gRPC's form) and, with mTLS, the
// common name of its verified certificate (empty: none). Any thread.
void remember_guarded_peer(int fd, std::string peer, std::string certificate = {});

// The real client for a gRPC peer string: "fd:N" of a guarded connection → its client; any
// other string unchanged. Any thread.
std::string real_peer(std::string_view grpc_peer);

// The verified client certificate's common name of a guarded connection ("fd:N"); empty when
// it presented none, or for any other peer string. Any thread.
std::string guarded_certificate(std::string_view grpc_peer);

}  // namespace reactord::control
