// Fuzz target: the connection filter of ListConnections / CloseConnections / WatchConnections
// (server/control/filter.*): make_filter on any raw fields, then matches() against connections
// built from the input, checked against a literal reading of each criterion (a linear id
// search, the peer prefix, port, loop, state, ages, byte counts), with negate inverting the
// answer, ignore_state dropping only the state criterion, and empty() true exactly when no
// criterion is set. A refused filter says why, briefly.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "server/control/filter.h"
#include "fuzz_support.h"

namespace {

using reactord::ConnectionRecord;
using reactord::ConnectionState;
using reactord::control::FilterSpec;
using reactord::control::RawFilter;
using reactord::fuzz::ByteReader;

reactor::SocketAddress peer_from(ByteReader& in) {
  std::uint8_t kind = in.u8() % 3;
  std::uint16_t port = in.u16();
  if (kind == 0) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::uint32_t a = in.u32();
    std::memcpy(&sin.sin_addr, &a, 4);
    return reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::uint8_t bytes[16] = {};
  if (kind == 1) {  // IPv4-mapped
    bytes[10] = bytes[11] = 0xff;
    for (int i = 12; i < 16; ++i) bytes[i] = in.u8();
  } else {
    for (auto& b : bytes) b = in.u8();
  }
  std::memcpy(&sin6.sin6_addr, bytes, 16);
  return reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

// What matches() must answer, criterion by criterion, from the raw request fields.
bool expected_match(const RawFilter& raw, const FilterSpec& spec, const ConnectionRecord& c,
                    reactor::TimePoint now, bool ignore_state) {
  bool ok = true;
  if (!raw.ids.empty()) ok = ok && std::find(raw.ids.begin(), raw.ids.end(), c.id) != raw.ids.end();
  if (!raw.peer.empty()) ok = ok && spec.peer->contains(c.peer);
  if (raw.local_port != 0) ok = ok && c.local.port() == raw.local_port;
  if (raw.loop) ok = ok && c.loop == *raw.loop;
  if (raw.state && !ignore_state) ok = ok && c.state == *raw.state;
  const std::int64_t age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - c.created).count();
  const std::int64_t idle_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - c.last_activity).count();
  // Ages here are whole milliseconds (below), so the millisecond comparison is exact.
  if (raw.min_age_ms > 0) ok = ok && age_ms >= raw.min_age_ms;
  if (raw.min_idle_ms > 0) ok = ok && idle_ms >= raw.min_idle_ms;
  ok = ok && c.bytes_in >= raw.min_bytes_in && c.bytes_out >= raw.min_bytes_out;
  ok = ok && c.bytes_buffered_in + c.bytes_buffered_out >= raw.min_buffered;
  return ok != raw.negate;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  RawFilter raw;
  const std::uint8_t flags = in.u8();
  const std::size_t id_count = in.u8() % 8;
  for (std::size_t i = 0; i < id_count; ++i) raw.ids.push_back(in.u8() % 16);
  if (flags & 1) raw.peer = in.bytes(48);
  raw.local_port = (flags & 2) ? in.u32() % 70000 : 0;
  if (flags & 4) raw.loop = in.u8() % 4;
  if (flags & 8) raw.state = static_cast<ConnectionState>(in.u8() % 5);
  // Ages: mostly small, sometimes negative or huge (refused or clamped).
  raw.min_age_ms = (flags & 16) ? static_cast<std::int64_t>(in.u64()) : in.u8();
  raw.min_idle_ms = (flags & 32) ? static_cast<std::int64_t>(in.u64()) : in.u8();
  raw.min_bytes_in = in.u8() % 4 == 0 ? in.u64() : in.u8();
  raw.min_bytes_out = in.u8();
  raw.min_buffered = in.u16();
  raw.negate = flags & 64;

  std::string error;
  auto spec = reactord::control::make_filter(raw, &error);
  if (!spec) {
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(error.size() <= 512);
    return 0;
  }
  const bool none_set = raw.ids.empty() && raw.peer.empty() && raw.local_port == 0 && !raw.loop &&
                        !raw.state && raw.min_age_ms == 0 && raw.min_idle_ms == 0 && raw.min_bytes_in == 0 &&
                        raw.min_bytes_out == 0 && raw.min_buffered == 0;
  FUZZ_CHECK(spec->empty() == none_set);
  FUZZ_CHECK(std::is_sorted(spec->ids.begin(), spec->ids.end()));

  const reactor::TimePoint now = reactor::TimePoint{} + std::chrono::hours(24 * 365 * 50);
  for (int i = 0; i < 8 && !in.done(); ++i) {
    ConnectionRecord c;
    c.id = in.u8() % 16;
    c.loop = in.u8() % 4;
    c.peer = peer_from(in);
    c.local = reactor::SocketAddress::ipv4_loopback(in.u16());
    c.state = static_cast<ConnectionState>(in.u8() % 5);
    c.created = now - std::chrono::milliseconds(in.u32());
    c.last_activity = now - std::chrono::milliseconds(in.u16());
    c.bytes_in = in.u16();
    c.bytes_out = in.u16();
    c.bytes_buffered_in = in.u16();
    c.bytes_buffered_out = in.u16();
    for (bool ignore_state : {false, true}) {
      const bool got = spec->matches(c, now, ignore_state);
      FUZZ_CHECK(got == expected_match(raw, *spec, c, now, ignore_state));
      FilterSpec inverted = *spec;
      inverted.negate = !inverted.negate;
      FUZZ_CHECK(inverted.matches(c, now, ignore_state) == !got);
    }
  }
  return 0;
}
