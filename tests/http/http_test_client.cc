#include "http_test_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace reactord::test_support {

HttpTestClient::HttpTestClient(const reactor::SocketAddress& server, int timeout_ms, int receive_buffer)
    : limit_(timeout_ms), client_(server, limit_, receive_buffer) {
  if (!client_.connected())
    throw std::runtime_error("connect " + server.to_string() + ": " + std::strerror(errno));
}

void HttpTestClient::send_all(const std::string& data) {
  if (!try_send(data)) throw std::runtime_error("send failed");
}

bool HttpTestClient::try_send(const std::string& data) { return write_all(client_.fd(), data, limit_); }

bool HttpTestClient::fill() {
  if (!wait_for(client_.fd(), POLLIN, limit_)) return false;
  char buf[16384];
  while (true) {
    const ssize_t n = ::recv(client_.fd(), buf, sizeof buf, 0);  // readable: does not block
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<RawResponse> HttpTestClient::read_response(bool head_only) {
  std::size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  RawResponse response;
  const std::string head = buffered_.substr(0, end);
  buffered_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  response.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t value_start = line.find_first_not_of(' ', colon + 1);
    response.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
  }
  if (head_only) return response;
  const std::size_t length = std::stoul(response.headers["content-length"]);
  while (buffered_.size() < length) {
    if (!fill()) return std::nullopt;
  }
  response.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return response;
}

bool HttpTestClient::wait_closed() { return test_support::wait_closed(client_.fd(), limit_); }

}  // namespace reactord::test_support
