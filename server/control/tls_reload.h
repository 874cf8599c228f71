// The control port's TLS context, swappable while serving (reload without restart).
//
// The HTTP/2 guard (h2_guard.h) terminates the control port's TLS itself (reactor_tls'
// TlsBufferEvent), so that it can check the client's HTTP/2 frames before gRPC parses them;
// gRPC gets plaintext over a socketpair. Each handshake takes the context in force at its
// accept: a reload validates the new PEM first (tls_files.h: parsed, key matches the
// certificate), builds a new context from it in memory and swaps it in — new handshakes use
// it at once, established sessions keep theirs (an SSL holds a reference to its context).
// Nothing is written to disk.
// Any thread. No gRPC in this header.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "tls_files.h"

typedef struct ssl_ctx_st SSL_CTX;  // NOLINT: OpenSSL's own typedef

namespace reactord::control {

// A server context from validated PEMs: the certificate chain and key, TLS 1.2 or newer,
// ALPN "h2" (gRPC clients insist on it), no renegotiation; with a client CA, client
// certificates required and verified against it. nullptr with one line in *error. Any thread.
std::shared_ptr<SSL_CTX> make_control_tls_context(const TlsFiles& files, std::string* error);

class ReloadableTls {
 public:
  // A context from `files` (enabled). Throws std::runtime_error with the reason if OpenSSL
  // cannot build it.
  explicit ReloadableTls(const TlsFiles& files);
  ReloadableTls(const ReloadableTls&) = delete;
  ReloadableTls& operator=(const ReloadableTls&) = delete;

  // The context new handshakes use. Any thread.
  std::shared_ptr<SSL_CTX> context() const;
  // Puts validated files in place of the current ones (same mTLS mode as at start). False
  // with *error if OpenSSL cannot build a context from them (the old one stays). Any thread
  // (reloads are serialised by Server::reload).
  bool replace(const TlsFiles& files, std::string* error);
  // The files in force. Reload thread only (the one that calls replace).
  const TlsFiles& current() const { return files_; }

 private:
  TlsFiles files_;
  mutable std::mutex mutex_;  // guards context_
  std::shared_ptr<SSL_CTX> context_;
};

}  // namespace reactord::control
