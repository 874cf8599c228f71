// Helpers for Buffer tests: build a buffer whose blocks split exactly where a test wants.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "reactor/buffer.h"

namespace reactord::test_support {

// One block per piece: add_reference blocks are never merged or copied, so a piece
// boundary is a block boundary. The pieces must outlive the buffer (string literals do).
inline void append_pieces(reactor::Buffer& buf, std::initializer_list<std::string_view> pieces) {
  for (std::string_view piece : pieces) buf.add_reference(piece.data(), piece.size(), nullptr);
}

inline std::string as_string(std::span<const std::byte> span) {
  return std::string(reinterpret_cast<const char*>(span.data()), span.size());
}

}  // namespace reactord::test_support
