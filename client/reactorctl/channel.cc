#include "channel.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "units/text.h"

namespace reactorctl {

namespace {

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + what + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Connection::Connection(const ConnectOptions& options) : options_(options) {
  if (!options.token_file.empty()) {
    std::string first_line = read_file(options.token_file, "token file");
    first_line = first_line.substr(0, first_line.find('\n'));
    token_ = std::string(reactord::text::trim(first_line));
    if (token_.empty()) throw std::runtime_error("token file " + options.token_file + " is empty");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!options.tls_ca.empty() || !options.tls_cert.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) ssl.pem_root_certs = read_file(options.tls_ca, "CA file");
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      if (options.tls_cert.empty() || options.tls_key.empty()) {
        throw std::runtime_error("--tls-cert and --tls-key go together");
      }
      ssl.pem_cert_chain = read_file(options.tls_cert, "certificate");
      ssl.pem_private_key = read_file(options.tls_key, "key");
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  channel_ = grpc::CreateCustomChannel(options.target, creds, args);
}

Connection::~Connection() = default;

std::unique_ptr<grpc::ClientContext> Connection::context(bool streaming) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  if (!streaming) ctx->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  return ctx;
}

}  // namespace reactorctl
