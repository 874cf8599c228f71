#include "tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "secret_file.h"

namespace reactord::control {

namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;  // a chain of certificates, never megabytes

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio memory_bio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate in pem (null if none), and how many there are.
Cert first_certificate(const std::string& pem, int* count) {
  Bio bio = memory_bio(pem);
  Cert first;
  *count = 0;
  while (bio) {
    Cert c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) break;
    if (!first) first = std::move(c);
    ++*count;
  }
  ERR_clear_error();  // the read that ended the loop left "no start line" behind
  return first;
}

bool read(const char* flag, const std::string& path, std::string* out, std::string* error,
          std::vector<std::string>* warnings, bool secret) {
  SecretFile f = read_secret_file(path, kMaxPemBytes);
  if (!f.ok) {
    *error = std::string(flag) + " " + f.error;
    return false;
  }
  if (secret && f.world_readable && warnings) {
    warnings->push_back(std::string(flag) + " " + path + " is readable by every user (chmod 600 it)");
  }
  *out = std::move(f.content);
  return true;
}

}  // namespace

std::optional<TlsFiles> load_tls_files(const TlsPaths& paths, std::string* error,
                                       std::vector<std::string>* warnings) {
  TlsFiles t;
  if (paths.cert.empty() != paths.key.empty()) {
    *error = paths.cert.empty() ? "--control-tls-cert is needed with --control-tls-key"
                                : "--control-tls-key is needed with --control-tls-cert";
    return std::nullopt;
  }
  t.enabled = !paths.cert.empty();
  if (!paths.client_ca.empty() && !t.enabled) {
    *error = "--control-tls-client-ca needs --control-tls-cert and --control-tls-key";
    return std::nullopt;
  }
  if (!t.enabled) return t;
  t.mtls = !paths.client_ca.empty();

  if (!read("--control-tls-cert", paths.cert, &t.cert_pem, error, warnings, false)) return std::nullopt;
  int certs = 0;
  Cert cert = first_certificate(t.cert_pem, &certs);
  if (!cert) {
    *error = "--control-tls-cert " + paths.cert + ": no PEM certificate in it";
    return std::nullopt;
  }
  if (!read("--control-tls-key", paths.key, &t.key_pem, error, warnings, true)) return std::nullopt;
  Bio bio = memory_bio(t.key_pem);
  Key key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) {
    *error = "--control-tls-key " + paths.key + ": no PEM private key in it (or it needs a passphrase)";
    return std::nullopt;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    *error = "--control-tls-key " + paths.key + ": does not match the certificate in " + paths.cert;
    return std::nullopt;
  }
  if (t.mtls) {
    if (!read("--control-tls-client-ca", paths.client_ca, &t.client_ca_pem, error, warnings, false)) {
      return std::nullopt;
    }
    int cas = 0;
    if (!first_certificate(t.client_ca_pem, &cas)) {
      *error = "--control-tls-client-ca " + paths.client_ca + ": no PEM certificate in it";
      return std::nullopt;
    }
  }
  return t;
}

}  // namespace reactord::control
