#include "filter.h"

#include "request_limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace reactord::control {

namespace {

bool parse_ip(std::string_view text, Cidr& out) {
  std::string s(text);
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.family = AF_INET;
    std::memcpy(out.bytes.data(), &v4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    out.family = AF_INET6;
    std::memcpy(out.bytes.data(), &v6, 16);
    return true;
  }
  return false;
}

bool parse_uint(std::string_view text, unsigned long max, unsigned long& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out <= max;
}

// Compares the first `bits` bits of a and b.
bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Cidr> {
    if (error) *error = "bad peer \"" + quoted_value(text) + "\": " + why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  Cidr c;
  std::string_view addr = text;
  std::optional<std::string_view> prefix;
  std::optional<std::string_view> port;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
  } else if (text.front() == '[') {  // [v6]:port
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected [address]:port");
    addr = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {  // v4:port
    auto colon = text.find(':');
    addr = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!parse_ip(addr, c)) return fail("not a numeric IPv4 or IPv6 address");
  int max_len = c.family == AF_INET ? 32 : 128;
  c.prefix_len = max_len;
  if (prefix) {
    unsigned long len = 0;
    if (!parse_uint(*prefix, max_len, len)) {
      return fail("prefix length must be 0.." + std::to_string(max_len));
    }
    c.prefix_len = static_cast<int>(len);
  }
  if (port) {
    unsigned long p = 0;
    if (!parse_uint(*port, 65535, p)) return fail("port must be 0..65535");
    c.port = static_cast<std::uint16_t>(p);
  }
  return c;
}

bool Cidr::contains(const SocketAddress& address) const {
  const std::uint8_t* peer = nullptr;
  int peer_family = address.family();
  if (peer_family == AF_INET) {
    peer =
        reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(address.get())->sin_addr);
  } else if (peer_family == AF_INET6) {
    peer = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr);
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET && std::memcmp(peer, kMapped, 12) == 0) {
      peer += 12;  // ::ffff:a.b.c.d compared as a.b.c.d
      peer_family = AF_INET;
    }
  } else {
    return false;
  }
  if (peer_family != family) return false;
  if (port && address.port() != *port) return false;
  return prefix_equal(peer, bytes.data(), prefix_len);
}

bool FilterSpec::empty() const {
  return ids.empty() && !peer && local_port == 0 && !loop && !state && min_age.count() == 0 &&
         min_idle.count() == 0 && min_bytes_in == 0 && min_bytes_out == 0 && min_buffered == 0 && !tls;
}

bool FilterSpec::matches(const ConnectionRecord& c, std::chrono::steady_clock::time_point now,
                         bool ignore_state) const {
  bool ok = true;
  if (!ids.empty()) ok = ok && std::binary_search(ids.begin(), ids.end(), c.id);
  if (peer) ok = ok && peer->contains(c.peer);
  if (local_port != 0) ok = ok && c.local.port() == local_port;
  if (loop) ok = ok && c.loop == *loop;
  if (state && !ignore_state) ok = ok && c.state == *state;
  if (min_age.count() > 0) ok = ok && now - c.created >= min_age;
  if (min_idle.count() > 0) ok = ok && now - c.last_activity >= min_idle;
  ok = ok && c.bytes_in >= min_bytes_in && c.bytes_out >= min_bytes_out &&
       c.bytes_buffered_in + c.bytes_buffered_out >= min_buffered;
  if (tls) ok = ok && c.tls.has_value();
  return ok != negate;
}

std::optional<FilterSpec> make_filter(const RawFilter& raw, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<FilterSpec> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  FilterSpec f;
  f.ids = raw.ids;
  std::sort(f.ids.begin(), f.ids.end());
  f.ids.erase(std::unique(f.ids.begin(), f.ids.end()), f.ids.end());
  if (!raw.peer.empty()) {
    std::string why;
    f.peer = Cidr::parse(raw.peer, &why);
    if (!f.peer) return fail(why);
  }
  if (raw.local_port > 65535) return fail("local_port must be 0..65535");
  f.local_port = static_cast<std::uint16_t>(raw.local_port);
  f.loop = raw.loop;
  f.state = raw.state;
  if (raw.min_age_ms < 0) return fail("min_age_ms must not be negative");
  if (raw.min_idle_ms < 0) return fail("min_idle_ms must not be negative");
  // Clamp absurd values instead of overflowing the microsecond conversion.
  constexpr std::int64_t kMaxMs = std::int64_t{1} << 40;
  f.min_age = std::chrono::milliseconds(std::min(raw.min_age_ms, kMaxMs));
  f.min_idle = std::chrono::milliseconds(std::min(raw.min_idle_ms, kMaxMs));
  f.min_bytes_in = raw.min_bytes_in;
  f.min_bytes_out = raw.min_bytes_out;
  f.min_buffered = raw.min_buffered;
  f.tls = raw.tls;
  f.negate = raw.negate;
  return f;
}

}  // namespace reactord::control
