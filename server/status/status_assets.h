// The status page's files (server/status/assets/), compiled into reactord by
// embed_assets.cmake. Any thread (immutable).
#pragma once

#include <span>
#include <string_view>

namespace reactord::status {

struct Asset {
  std::string_view path;          // "/index.html", "/status.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

std::span<const Asset> assets();

}  // namespace reactord::status
