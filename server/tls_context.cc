#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "server/config.h"

namespace reactord {
namespace {

// OpenSSL's last reason ("no start line", "key values mismatch"), then the queue is cleared.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();  // NOLINT(google-runtime-int)
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unreadable";
}

// A regular readable file, or the line that says why not.
bool readable(const char* flag, const std::string& path, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = std::string(flag) + " " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = std::string(flag) + " " + path + ": not a regular file";
    return false;
  }
  return true;
}

}  // namespace

TlsContextPtr make_tls_context(const Config& config, std::string* error) {
  ERR_clear_error();
  TlsContextPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    *error = "--tls-listen: cannot create a TLS context: " + openssl_reason();
    return nullptr;
  }
  if (!readable("--tls-cert", config.tls_cert, error)) return nullptr;
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.tls_cert.c_str()) != 1) {
    *error = "--tls-cert " + config.tls_cert + ": no PEM certificate in it (" + openssl_reason() + ")";
    return nullptr;
  }
  if (!readable("--tls-key", config.tls_key, error)) return nullptr;
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), config.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string why = openssl_reason();
    *error = why == "key values mismatch"
                 ? "--tls-key " + config.tls_key + ": does not match the certificate in " + config.tls_cert
                 : "--tls-key " + config.tls_key + ": no PEM private key in it (" + why + ")";
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    *error = "--tls-key " + config.tls_key + ": does not match the certificate in " + config.tls_cert;
    return nullptr;
  }
  if (!config.tls_client_ca.empty()) {
    if (!readable("--tls-client-ca", config.tls_client_ca, error)) return nullptr;
    if (SSL_CTX_load_verify_locations(ctx.get(), config.tls_client_ca.c_str(), nullptr) != 1) {
      *error =
          "--tls-client-ca " + config.tls_client_ca + ": no PEM certificate in it (" + openssl_reason() + ")";
      return nullptr;
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.tls_client_ca.c_str())) {
      SSL_CTX_set_client_CA_list(ctx.get(), names);
    }
    ERR_clear_error();
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  SSL_CTX_set_min_proto_version(ctx.get(), config.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Renegotiation refused; kernel TLS asked for (OpenSSL uses it only through a socket BIO:
  // with the reactor's filter it stays off, and each connection reports it).
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_ENABLE_KTLS);
  // Session resumption with client certificates needs an id context.
  static const unsigned char kSessionContext[] = "reactord";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

}  // namespace reactord
