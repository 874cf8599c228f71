#include "tls_reload.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "server/openssl_reason.h"

namespace reactord::control {

namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
BioPtr pem_bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
}

// ALPN: the guard speaks HTTP/2 only; a gRPC client refuses a TLS session without "h2".
int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
              unsigned int inlen, void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kH2, sizeof kH2, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // offers ALPN, but not h2: not an HTTP/2 client
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

bool use_chain(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  X509* leaf = bio ? PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (leaf == nullptr) return false;
  const bool ok = SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  if (!ok) return false;
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return false;
    }
  }
  ERR_clear_error();  // the end of the PEM is reported as an error
  return true;
}

bool use_key(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return false;
  const bool ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  return ok;
}

bool trust_client_ca(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = pem_bio(pem);
  if (!bio) return false;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    const bool ok = X509_STORE_add_cert(store, ca) == 1 && SSL_CTX_add_client_CA(ctx, ca) == 1;
    X509_free(ca);
    if (!ok) return false;
    ++count;
  }
  ERR_clear_error();
  return count > 0;
}

}  // namespace

std::shared_ptr<SSL_CTX> make_control_tls_context(const TlsFiles& files, std::string* error) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    *error = "cannot create a TLS context: " + openssl_reason();
    return nullptr;
  }
  if (!use_chain(ctx.get(), files.cert_pem)) {
    *error = "--control-tls-cert: cannot use the certificate: " + openssl_reason();
    return nullptr;
  }
  if (!use_key(ctx.get(), files.key_pem)) {
    *error = "--control-tls-key: cannot use the key: " + openssl_reason();
    return nullptr;
  }
  if (files.mtls) {
    if (!trust_client_ca(ctx.get(), files.client_ca_pem)) {
      *error = "--control-tls-client-ca: cannot use the CA: " + openssl_reason();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    static const unsigned char kSessionContext[] = "reactord-control";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_h2, nullptr);
  return ctx;
}

ReloadableTls::ReloadableTls(const TlsFiles& files) : files_(files) {
  std::string error;
  context_ = make_control_tls_context(files, &error);
  if (!context_) throw std::runtime_error(error);
}

std::shared_ptr<SSL_CTX> ReloadableTls::context() const {
  std::lock_guard lock(mutex_);
  return context_;
}

bool ReloadableTls::replace(const TlsFiles& files, std::string* error) {
  TlsFiles next = files;
  next.mtls = files_.mtls;  // the mode is the start's: a reload changes certificates, not policy
  if (next.mtls && next.client_ca_pem.empty()) next.client_ca_pem = files_.client_ca_pem;
  auto fresh = make_control_tls_context(next, error);
  if (!fresh) return false;
  {
    std::lock_guard lock(mutex_);
    context_.swap(fresh);  // the old context lives on in the sessions made from it
  }
  files_ = std::move(next);
  return true;
}

}  // namespace reactord::control
