// The control plane's TLS files (--control-tls-cert, --control-tls-key,
// --control-tls-client-ca), read with a size bound and parsed with OpenSSL before anything is
// bound, so that a missing or garbage PEM is one clear line naming the flag instead of gRPC's
// multi-line handshake errors later. Any thread. No gRPC.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace reactord::control {

struct TlsPaths {
  std::string cert, key, client_ca;
};

struct TlsFiles {
  bool enabled = false;  // a certificate and key were given
  bool mtls = false;     // a client CA too
  std::string cert_pem, key_pem, client_ca_pem;
};

// Checks the combination and each file: the certificate file holds at least one certificate,
// the key file a private key that matches it, the CA file at least one certificate. nullopt
// with one line in *error ("--control-tls-key PATH: ...") otherwise. Key files readable by
// every user add a line to *warnings.
std::optional<TlsFiles> load_tls_files(const TlsPaths& paths, std::string* error,
                                       std::vector<std::string>* warnings);

}  // namespace reactord::control
