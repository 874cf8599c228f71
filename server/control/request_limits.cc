#include "request_limits.h"

namespace reactord::control {

std::string truncate_text(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t keep = limit;
  // Back off continuation bytes (10xxxxxx) so that no UTF-8 sequence is split.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  std::string out(text.substr(0, keep));
  out += "… (" + std::to_string(text.size() - keep) + " more bytes)";
  return out;
}

}  // namespace reactord::control
