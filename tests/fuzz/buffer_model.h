// The reference semantics of Buffer's line and search operations on a std::string, for the
// Buffer fuzz targets (evbuffer_readln's EOL styles exactly as libevent documents them).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "reactor/buffer.h"

namespace reactord::fuzz {

inline std::optional<std::string> model_readln(std::string& s, reactor::EolStyle style) {
  using reactor::EolStyle;
  std::size_t pos = 0;
  std::size_t line_len = 0;
  std::size_t eol_len = 0;
  switch (style) {
    case EolStyle::kLf:
    case EolStyle::kNul:
      pos = s.find(style == EolStyle::kLf ? '\n' : '\0');
      if (pos == std::string::npos) return std::nullopt;
      line_len = pos;
      eol_len = 1;
      break;
    case EolStyle::kCrlf:
      pos = s.find('\n');
      if (pos == std::string::npos) return std::nullopt;
      line_len = (pos > 0 && s[pos - 1] == '\r') ? pos - 1 : pos;
      eol_len = pos + 1 - line_len;
      break;
    case EolStyle::kCrlfStrict:
      pos = s.find("\r\n");
      if (pos == std::string::npos) return std::nullopt;
      line_len = pos;
      eol_len = 2;
      break;
    case EolStyle::kAny:
      pos = s.find_first_of("\r\n");
      if (pos == std::string::npos) return std::nullopt;
      line_len = pos;
      eol_len = s.find_first_not_of("\r\n", pos);
      eol_len = (eol_len == std::string::npos ? s.size() : eol_len) - pos;
      break;
  }
  std::string line = s.substr(0, line_len);
  s.erase(0, line_len + eol_len);
  return line;
}

inline std::optional<std::size_t> model_search(const std::string& s, std::string_view needle,
                                               std::size_t from) {
  if (from > s.size()) return std::nullopt;
  std::size_t pos = s.find(needle, from);
  if (pos == std::string::npos) return std::nullopt;
  return pos;
}

inline std::string concat(const std::vector<std::span<const std::byte>>& spans) {
  std::string out;
  for (auto span : spans) out.append(reinterpret_cast<const char*>(span.data()), span.size());
  return out;
}

inline reactor::EolStyle eol_style(std::uint8_t b) { return static_cast<reactor::EolStyle>(b % 5); }

}  // namespace reactord::fuzz
