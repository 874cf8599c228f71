// Connection filters for ListConnections, CloseConnections and WatchConnections: parsing
// (CIDR, bounds) and matching against a ConnectionRecord. No gRPC here; the services convert the
// protobuf ConnectionFilter into a FilterSpec and report parse errors as INVALID_ARGUMENT.
// Any thread (values only).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/connection_record.h"
#include "server/service_values.h"

namespace reactord::control {

// An address prefix: "10.0.0.0/8", "fd00::/8", or a bare address (full-length prefix).
// IPv4 prefixes also match IPv4-mapped IPv6 peers (::ffff:10.1.2.3) from dual-stack sockets.
struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};
  int prefix_len = 0;
  // Optional exact port, from "1.2.3.4:5678" / "[::1]:5678" (then prefix is full length).
  std::optional<std::uint16_t> port;

  // nullopt with the reason in *error on bad input ("10.0.0.0/33", "banana", ...).
  static std::optional<Cidr> parse(std::string_view text, std::string* error);
  bool contains(const SocketAddress& address) const;
};

struct FilterSpec {
  std::vector<std::uint64_t> ids;  // sorted, unique
  std::optional<Cidr> peer;
  std::uint16_t local_port = 0;  // 0 = any
  std::optional<unsigned> loop;
  std::optional<ConnectionState> state;
  std::chrono::microseconds min_age{0};
  std::chrono::microseconds min_idle{0};
  std::uint64_t min_bytes_in = 0;
  std::uint64_t min_bytes_out = 0;
  std::uint64_t min_buffered = 0;
  bool tls = false;  // only clients of --tls-listen
  bool negate = false;

  // True when no criterion is set (it matches every connection, or none if negated).
  bool empty() const;
  // ignore_state: match as if no state criterion were set (a closed connection is reported to
  // a watcher if it matched in life).
  bool matches(const ConnectionRecord& conn, std::chrono::steady_clock::time_point now,
               bool ignore_state = false) const;
};

// Builds a FilterSpec from raw fields (what the protobuf message carries). Negative durations,
// a local port above 65535 and a bad peer are refused: nullopt with the reason in *error.
struct RawFilter {
  std::vector<std::uint64_t> ids;
  std::string peer;
  std::uint32_t local_port = 0;
  std::optional<std::uint32_t> loop;
  std::optional<ConnectionState> state;
  std::int64_t min_age_ms = 0;
  std::int64_t min_idle_ms = 0;
  std::uint64_t min_bytes_in = 0;
  std::uint64_t min_bytes_out = 0;
  std::uint64_t min_buffered = 0;
  bool tls = false;
  bool negate = false;
};
std::optional<FilterSpec> make_filter(const RawFilter& raw, std::string* error);

}  // namespace reactord::control
