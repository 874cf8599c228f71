#include "tls_reload.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace reactord::control {

namespace {

// Seconds between the provider's reads of the watched files (its smallest interval).
constexpr unsigned kRefreshSeconds = 1;

// A sealed-size-free anonymous file holding `content`; -1 with errno on failure.
int memory_file(const char* name, const std::string& content) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    done += static_cast<std::size_t>(w);
  }
  return fd;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string identity_pem(const TlsFiles& f) {
  std::string pem = f.key_pem;
  if (!pem.empty() && pem.back() != '\n') pem += '\n';
  return pem + f.cert_pem;
}

}  // namespace

ReloadableTls::ReloadableTls(const TlsFiles& files) : files_(files) {
  identity_fd_ = memory_file("reactord-control-tls", identity_pem(files));
  if (identity_fd_ < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  if (files.mtls) {
    root_fd_ = memory_file("reactord-control-ca", files.client_ca_pem);
    if (root_fd_ < 0) {
      const int saved = errno;
      ::close(identity_fd_);
      throw std::system_error(saved, std::generic_category(), "memfd_create");
    }
  }
}

ReloadableTls::~ReloadableTls() {
  provider_.reset();
  if (identity_fd_ >= 0) ::close(identity_fd_);
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::shared_ptr<grpc::ServerCredentials> ReloadableTls::credentials() const {
  const std::string identity = fd_path(identity_fd_);
  provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      identity, identity, files_.mtls ? fd_path(root_fd_) : std::string(), kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_identity_key_cert_pairs();
  if (files_.mtls) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

bool ReloadableTls::replace(const TlsFiles& files, std::string* error) {
  // New files first; then each takes the watched descriptor's number in one dup2, so the
  // provider's next read sees either the old or the new, whole.
  const int identity = memory_file("reactord-control-tls", identity_pem(files));
  if (identity < 0) {
    *error = std::string("memfd_create: ") + std::strerror(errno);
    return false;
  }
  int root = -1;
  if (files_.mtls) {
    root = memory_file("reactord-control-ca", files.client_ca_pem);
    if (root < 0) {
      *error = std::string("memfd_create: ") + std::strerror(errno);
      ::close(identity);
      return false;
    }
  }
  ::dup3(identity, identity_fd_, O_CLOEXEC);
  ::close(identity);
  if (root >= 0) {
    ::dup3(root, root_fd_, O_CLOEXEC);
    ::close(root);
  }
  const bool mtls = files_.mtls;
  files_ = files;
  files_.mtls = mtls;
  return true;
}

}  // namespace reactord::control
