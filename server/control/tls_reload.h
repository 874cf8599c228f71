// The control plane's TLS credentials, swappable while serving (Reload without restart).
//
// gRPC 1.51 updates a server's certificates only through a certificate provider; the one
// that can change is FileWatcherCertificateProvider, which re-reads files every second. It
// would read the operator's files as they are — half-written, a key that does not match —
// so it never sees them: reactord validates the new PEM first (tls_files.h: parsed, key
// matches the certificate), and only then puts it in a private in-memory file (memfd) that
// the provider watches by its /proc/self/fd path. The key and the certificate chain live in
// one such file, replaced in one step (dup2 over the watched descriptor), so the provider
// never reads a new key with an old certificate. Nothing is written to disk: this works on a
// read-only root filesystem. Established connections keep their session; new handshakes use
// the new certificate within a second.
// Any thread. No gRPC in this header.
#pragma once

#include <memory>
#include <string>

#include "tls_files.h"

namespace grpc {
class ServerCredentials;
namespace experimental {
class CertificateProviderInterface;
}
}  // namespace grpc

namespace reactord::control {

class ReloadableTls {
 public:
  // Holds `files` (enabled) in private memory files. Throws std::system_error if memfd fails.
  explicit ReloadableTls(const TlsFiles& files);
  ~ReloadableTls();
  ReloadableTls(const ReloadableTls&) = delete;
  ReloadableTls& operator=(const ReloadableTls&) = delete;

  // Server credentials over the watched files (mTLS when the files have a client CA).
  std::shared_ptr<grpc::ServerCredentials> credentials() const;
  // Puts validated files in place of the current ones (same mTLS mode). False with *error if
  // the memory file cannot be made (the old ones stay).
  bool replace(const TlsFiles& files, std::string* error);
  const TlsFiles& current() const { return files_; }

 private:
  TlsFiles files_;
  int identity_fd_ = -1;  // private key, then the certificate chain (PEM)
  int root_fd_ = -1;      // client CA (mTLS only)
  // The watcher over the two files (made by credentials()); released before they close.
  mutable std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
};

}  // namespace reactord::control
