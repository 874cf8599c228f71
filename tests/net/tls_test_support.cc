#include "tls_test_support.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace reactord::test_support {

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

namespace {
void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}
}  // namespace

Cert make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca,
               long from_days, long to_days) {  // NOLINT(google-runtime-int)
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1;  // NOLINT(google-runtime-int)
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_days * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("reactord tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    const std::string san = "DNS:" + cn + ",IP:127.0.0.1";
    add_ext(cert.get(), signer, NID_subject_alt_name, san.c_str());
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  return cert;
}

Pki::Pki(const std::string& ca_name)
    : ca_key(make_key()),
      ca(make_cert(ca_name, ca_key.get(), nullptr, nullptr, true)),
      server_key(make_key()),
      server(make_cert("localhost", server_key.get(), ca.get(), ca_key.get())) {}

Ctx server_ctx(X509* cert, EVP_PKEY* key, X509* verify_ca) {
  Ctx ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), cert);
  SSL_CTX_use_PrivateKey(ctx.get(), key);
  if (verify_ca != nullptr) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), verify_ca);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

Ctx client_ctx(X509* trusted, X509* client_cert, EVP_PKEY* client_key) {
  Ctx ctx(SSL_CTX_new(TLS_client_method()));
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), trusted);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (client_cert != nullptr) {
    SSL_CTX_use_certificate(ctx.get(), client_cert);
    SSL_CTX_use_PrivateKey(ctx.get(), client_key);
  }
  return ctx;
}

std::string pem(X509* cert) {
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(mem, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(mem, &data);  // NOLINT(google-runtime-int)
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(mem);
  return out;
}

std::string pem(EVP_PKEY* key) {
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(mem, &data);  // NOLINT(google-runtime-int)
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(mem);
  return out;
}

}  // namespace reactord::test_support
