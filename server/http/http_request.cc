#include "server/http/http_request.h"

#include <charconv>
#include <strings.h>

namespace reactord::http {
namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 9110 tchar: the characters of a method or a header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// HTTP's optional whitespace (RFC 9110, 5.6.3: OWS = *( SP / HTAB )), not text::trim's
// isspace: only SP and HTAB are padding around a header value (a stray CR or VT is not).
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParsedHead error(int status, std::string why) {
  ParsedHead head;
  head.kind = ParsedHead::Kind::kError;
  head.error_status = status;
  head.error = std::move(why);
  return head;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "GET /path?q HTTP/1.1" into request; an error status otherwise (0 = fine).
int parse_request_line(std::string_view line, HttpRequest& request, std::string& why) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    why = "the request line is not METHOD TARGET VERSION";
    return 400;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) {
    why = "empty method";
    return 400;
  }
  for (char c : method) {
    if (!is_tchar(c)) {
      why = "bad character in the method";
      return 400;
    }
  }
  if (target.empty() || target.front() != '/') {
    why = "the target must be a path starting with /";
    return 400;
  }
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) {
      why = "control character in the target";
      return 400;
    }
  }
  if (version == "HTTP/1.1") {
    request.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    request.version_minor = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    why = "only HTTP/1.0 and HTTP/1.1 are served";
    return 505;
  } else {
    why = "not an HTTP request";
    return 400;
  }
  request.method = std::string(method);
  request.target = std::string(target);
  const auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  return 0;
}

// "Name: value" into request; an error status otherwise.
int parse_header_line(std::string_view line, HttpRequest& request, std::string& why) {
  if (line.front() == ' ' || line.front() == '\t') {
    why = "folded header lines are not accepted";
    return 400;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    why = "a header line without a name and a colon";
    return 400;
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!is_tchar(c)) {
      why = "bad character in a header name";
      return 400;
    }
  }
  std::string_view value = trim_ows(line.substr(colon + 1));
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      why = "control character in a header value";
      return 400;
    }
  }
  if (equals_ignore_case(name, "Content-Length")) {
    std::size_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      why = "Content-Length is not a number";
      return 400;
    }
    if (request.header("Content-Length") != nullptr && length != request.content_length) {
      why = "two different Content-Length headers";
      return 400;
    }
    request.content_length = length;
  } else if (equals_ignore_case(name, "Transfer-Encoding")) {
    request.has_transfer_encoding = true;
  }
  request.headers.emplace_back(std::string(name), std::string(value));
  return 0;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignore_case(key, name)) return &value;
  }
  return nullptr;
}

bool HttpRequest::keep_alive() const {
  const std::string* connection = header("Connection");
  // Connection is a list of tokens ("keep-alive, Upgrade"); "close" anywhere closes.
  auto has_token = [&](std::string_view token) {
    if (connection == nullptr) return false;
    std::string_view rest = *connection;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (equals_ignore_case(trim_ows(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return false;
  };
  if (has_token("close")) return false;
  return version_minor >= 1 || has_token("keep-alive");
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (uri_decode(pair.substr(0, eq), true) == name) {
      return eq == std::string_view::npos ? std::string() : uri_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string uri_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

ParsedHead parse_request_head(std::string_view input, const HeadLimits& limits) {
  // Only the first max_header_bytes can hold a head we accept.
  if (input.size() > limits.max_header_bytes) input = input.substr(0, limits.max_header_bytes);
  ParsedHead head;
  std::size_t pos = 0;
  bool have_request_line = false;
  std::size_t header_count = 0;
  while (true) {
    const auto newline = input.find('\n', pos);
    if (newline == std::string_view::npos) break;
    std::string_view line = input.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = newline + 1;
    if (!have_request_line) {
      if (line.empty()) continue;  // RFC 9112 2.2: a server skips empty lines before the request
      std::string why;
      if (int status = parse_request_line(line, head.request, why); status != 0) return error(status, why);
      have_request_line = true;
      continue;
    }
    if (line.empty()) {
      head.kind = ParsedHead::Kind::kComplete;
      head.consumed = pos;
      return head;
    }
    if (++header_count > limits.max_headers) {
      return error(431, "more than " + std::to_string(limits.max_headers) + " header lines");
    }
    std::string why;
    if (int status = parse_header_line(line, head.request, why); status != 0) return error(status, why);
  }
  if (input.size() >= limits.max_header_bytes) {
    if (!have_request_line) {
      return error(414,
                   "the request line is longer than " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    return error(431,
                 "the request head is longer than " + std::to_string(limits.max_header_bytes) + " bytes");
  }
  return head;  // incomplete
}

}  // namespace reactord::http
