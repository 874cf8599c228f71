// How big a control-plane request may be, and how long an error message may grow: the bounds
// that keep one request from making the server do (or say) a million of anything. A request
// over a limit is refused with INVALID_ARGUMENT before any loop is asked. Listed with the
// other bounds in docs/RELIABILITY.md. No gRPC here. Any thread (constants and pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reactord::control {

// Ids in one CloseConnectionsRequest.ids or one ConnectionFilter.ids: half the fd limit of a
// process here; a larger selection is a filter's job.
inline constexpr std::size_t kMaxIdsPerCall = 10000;
// ConnectionFilter.peer: the longest valid form ("[ffff:…:ffff]:65535" or an IPv6 CIDR) is
// under 60 characters.
inline constexpr std::size_t kMaxPeerFilterBytes = 128;
// WatchConnectionsRequest.queue_limit (events); 0 means the default.
inline constexpr std::uint32_t kMaxWatchQueueItems = 65536;
inline constexpr std::uint32_t kDefaultWatchQueueItems = 1024;
// ListConnectionsRequest.max_results: larger values are capped (documented in the proto).
inline constexpr std::uint32_t kMaxPageSize = 1000;
inline constexpr std::uint32_t kDefaultPageSize = 100;
// A status message, and a piece of the request quoted inside one.
inline constexpr std::size_t kMaxErrorMessageBytes = 512;
inline constexpr std::size_t kMaxQuotedBytes = 64;

// `text` cut to `limit` bytes, ending in "… (N more bytes)" when cut (never in the middle of
// a UTF-8 sequence).
std::string truncate_text(std::string_view text, std::size_t limit);
// A request value fit to quote in an error message (kMaxQuotedBytes).
inline std::string quoted_value(std::string_view text) { return truncate_text(text, kMaxQuotedBytes); }
// An error message fit to send (kMaxErrorMessageBytes).
inline std::string bounded_message(std::string_view text) {
  return truncate_text(text, kMaxErrorMessageBytes);
}

}  // namespace reactord::control
