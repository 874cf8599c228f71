#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "server/config.h"
#include "server/openssl_reason.h"

namespace reactord {
namespace {

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

// --tls-alpn's protocols in ALPN's wire format (each name after its length byte), kept in the
// SSL_CTX's ex_data so that the list lives exactly as long as the context: a reload swaps
// contexts while older handshakes still use theirs.
int alpn_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {  // NOLINT(google-runtime-int)
        delete static_cast<std::string*>(data);
      });
  return index;
}

// RFC 7301: the first of our protocols the client offers (our order of preference); a client
// that offers ALPN but none of ours gets a no_application_protocol alert; one that offers no
// ALPN is not called here and goes on without.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
  const auto* ours = static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), alpn_index()));
  if (ours == nullptr || ours->empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned int>(ours->size()), in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
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
  if (!config.tls_alpn.empty()) {
    auto wire = std::make_unique<std::string>();
    for (const std::string& name : config.tls_alpn) {
      wire->push_back(static_cast<char>(name.size()));
      *wire += name;
    }
    if (SSL_CTX_set_ex_data(ctx.get(), alpn_index(), wire.get()) != 1) {
      *error = "--tls-alpn: cannot attach the protocol list: " + openssl_reason();
      return nullptr;
    }
    static_cast<void>(wire.release());  // the context's now (freed with it by alpn_index's free function)
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  }
  // Session resumption with client certificates needs an id context.
  static const unsigned char kSessionContext[] = "reactord";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

}  // namespace reactord
