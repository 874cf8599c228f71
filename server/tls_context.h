// The TLS data plane's OpenSSL context (--tls-cert, --tls-key, --tls-client-ca,
// --tls-min-version), built before anything is bound so that a missing, garbage or
// mismatched PEM is one line naming its flag (exit 2), and swapped at run time by a reload:
// new handshakes use the new certificate, live connections keep theirs (an SSL holds a
// reference to the context it was made from). No gRPC.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;  // NOLINT: OpenSSL's own typedef

namespace reactord {

struct Config;

using TlsContextPtr = std::shared_ptr<SSL_CTX>;

// A server context from the config's TLS flags; nullptr with one line in *error
// ("--tls-key /path: does not match the certificate in /path/cert.pem"). Any thread.
TlsContextPtr make_tls_context(const Config& config, std::string* error);

// The context new handshakes use. Any thread.
class TlsContextHolder {
 public:
  TlsContextPtr get() const {
    std::lock_guard lock(mutex_);
    return context_;
  }
  void set(TlsContextPtr context) {
    std::lock_guard lock(mutex_);
    context_ = std::move(context);
  }

 private:
  mutable std::mutex mutex_;
  TlsContextPtr context_;
};

}  // namespace reactord
