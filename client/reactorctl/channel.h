// How reactorctl reaches reactord: target, TLS / mTLS credentials, bearer token, deadline.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace reactorctl {

struct ConnectOptions {
  std::string target = "127.0.0.1:50051";
  std::string token_file;
  std::string tls_ca;    // TLS when set (server certificate checked against it)
  std::string tls_cert;  // client certificate (mTLS), with tls_key
  std::string tls_key;
  std::string tls_server_name;  // override the name checked in the server certificate
  std::chrono::milliseconds timeout{10000};
};

class Connection {
 public:
  // Reads the token and TLS files; throws std::runtime_error with the reason on failure.
  explicit Connection(const ConnectOptions& options);
  ~Connection();

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // A context carrying the token and the deadline (none when `streaming`).
  std::unique_ptr<grpc::ClientContext> context(bool streaming = false) const;

 private:
  ConnectOptions options_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace reactorctl
