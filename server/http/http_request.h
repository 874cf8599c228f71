// HttpRequest / HttpResponse: one request head as our HTTP/1.1 server (HttpServer, libevent's
// evhttp) hands it to a handler, and the answer the handler gives back. parse_request_head()
// is the bounded parser (pure: no socket, unit-tested on its own).
//
// libevent → here: evhttp_request_get_command → method, evhttp_request_get_uri → target,
// evhttp_uri_get_path / evhttp_uri_get_query → path / query, evhttp_find_header(
// evhttp_request_get_input_headers(req), name) → header(name), evhttp_parse_query +
// evhttp_find_header → query_param(name), evhttp_uridecode → uri_decode, evhttp_send_reply
// (req, code, reason, body) → returning an HttpResponse.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reactord::http {

struct HttpRequest {
  std::string method;     // "GET", "HEAD", ... as sent (methods are case-sensitive)
  std::string target;     // "/api/connections.json?state=open"
  std::string path;       // "/api/connections.json" (not decoded)
  std::string query;      // "state=open" (not decoded; empty without '?')
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers;  // in order, values trimmed
  // Content-Length (0 when absent) and whether Transfer-Encoding was given: bodies are refused.
  std::size_t content_length = 0;
  bool has_transfer_encoding = false;

  // The first header of that name (case-insensitive), or nullptr. Any thread.
  const std::string* header(std::string_view name) const;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive". Any thread.
  bool keep_alive() const;
  bool is_head() const { return method == "HEAD"; }
  // A query parameter, decoded ('+' is a space), or nullopt when absent. Any thread.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further headers, sent as given (Content-Type, Content-Length and Connection are ours).
  std::vector<std::pair<std::string, std::string>> headers;
};

// "OK", "Not Found", ... ("Unknown" for a code we never send). Any thread.
const char* reason_phrase(int status);

// %XX decoded; with plus_as_space, '+' too (query strings). A bad escape is kept as is. Any thread.
std::string uri_decode(std::string_view text, bool plus_as_space);

// Bounds on a request head (request line + headers + the empty line).
struct HeadLimits {
  std::size_t max_header_bytes = 8192;
  std::size_t max_headers = 64;
};

struct ParsedHead {
  enum class Kind { kIncomplete, kComplete, kError };
  Kind kind = Kind::kIncomplete;
  std::size_t consumed = 0;  // kComplete: bytes of the head, blank line included
  int error_status = 0;      // kError: 400, 414, 431, 505
  std::string error;         // kError: why, one line
  HttpRequest request;       // kComplete
};

// Parses the head at the start of `input` (what has arrived so far). Lines end with CRLF or LF;
// empty lines before the request line are skipped. kIncomplete while the head may still
// complete within the limits; kError as soon as it cannot (too long, too many headers,
// malformed). Any thread.
ParsedHead parse_request_head(std::string_view input, const HeadLimits& limits);

}  // namespace reactord::http
