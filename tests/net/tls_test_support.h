// Helpers for the reactor_tls tests: keys and certificates made in memory (a CA, leaves signed
// by it, validity in days relative to now so an expired one is easy), SSL_CTXs for both sides,
// and a raw OpenSSL peer on a non-blocking socket that the test steps by hand.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace reactord::test_support {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;

// An EC P-256 key.
Key make_key();
// A certificate for `cn`, valid from `from_days` to `to_days` (relative to now), signed by
// issuer (self-signed when issuer is null). `ca`: basicConstraints CA:TRUE.
Cert make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca = false,
               long from_days = -1, long to_days = 30);  // NOLINT(google-runtime-int)

// A CA and a server certificate for "localhost" it signed.
struct Pki {
  explicit Pki(const std::string& ca_name = "reactord test CA");
  Key ca_key;
  Cert ca;
  Key server_key;
  Cert server;
};

// Server context: cert + key; verify_ca set = client certificates required, verified by it.
Ctx server_ctx(X509* cert, EVP_PKEY* key, X509* verify_ca = nullptr);
// Client context trusting `trusted` (verification on); with a client certificate if given.
Ctx client_ctx(X509* trusted, X509* client_cert = nullptr, EVP_PKEY* client_key = nullptr);

// PEM text of a certificate / key (for writing files in integration tests).
std::string pem(X509* cert);
std::string pem(EVP_PKEY* key);

}  // namespace reactord::test_support
