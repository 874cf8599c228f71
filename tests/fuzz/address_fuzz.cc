// Fuzz target: SocketAddress::parse ("1.2.3.4:80", "[::1]:80") and the control plane's peer
// prefixes, Cidr::parse ("10.0.0.0/8", "fd00::/8", "1.2.3.4:5678", "[::1]:80"), on any text.
// Properties: a parsed address prints as text that parses back to the same address; a
// refused one says why, briefly; a parsed prefix is of a known family with a prefix length in
// range and contains the very address (and port) it names; contains() on any address — IPv4,
// IPv6, IPv4-mapped IPv6 — never reads outside the address.
//
// Input: [selector] then the text.
#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "server/control/filter.h"
#include "fuzz_support.h"
#include "reactor/socket_address.h"

namespace {

reactor::SocketAddress address_of(int family, const std::uint8_t* bytes, std::uint16_t port) {
  if (family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, bytes, 4);
    return reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, bytes, 16);
  return reactor::SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using reactord::control::Cidr;
  reactord::fuzz::ByteReader in(data, size);
  const std::uint8_t selector = in.u8();
  const std::string text(in.rest());

  std::string error;
  auto address = reactor::SocketAddress::parse(text, &error);
  if (address) {
    FUZZ_CHECK(address->family() == AF_INET || address->family() == AF_INET6);
    const std::string printed = address->to_string();
    auto again = reactor::SocketAddress::parse(printed);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->to_string() == printed);
    FUZZ_CHECK(again->port() == address->port());
    FUZZ_CHECK(again->host() == address->host());
  } else {
    FUZZ_CHECK(!error.empty());
  }

  error.clear();
  auto cidr = Cidr::parse(text, &error);
  if (!cidr) {
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(error.size() <= 512);  // a quoted request value is cut (RELIABILITY.md)
    return 0;
  }
  FUZZ_CHECK(cidr->family == AF_INET || cidr->family == AF_INET6);
  FUZZ_CHECK(cidr->prefix_len >= 0 && cidr->prefix_len <= (cidr->family == AF_INET ? 32 : 128));
  const std::uint16_t port = cidr->port.value_or(static_cast<std::uint16_t>(selector * 257));
  FUZZ_CHECK(cidr->contains(address_of(cidr->family, cidr->bytes.data(), port)));
  if (cidr->family == AF_INET) {
    // The same address as an IPv4-mapped IPv6 peer of a dual-stack socket.
    std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(mapped + 12, cidr->bytes.data(), 4);
    FUZZ_CHECK(cidr->contains(address_of(AF_INET6, mapped, port)));
  }
  // Any other peer: flip one bit; inside the prefix it must no longer match, past it it must.
  std::uint8_t other[16];
  std::memcpy(other, cidr->bytes.data(), 16);
  const int bits = cidr->family == AF_INET ? 32 : 128;
  const int bit = selector % bits;
  other[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
  FUZZ_CHECK(cidr->contains(address_of(cidr->family, other, port)) == (bit >= cidr->prefix_len));
  FUZZ_CHECK(!cidr->contains(reactor::SocketAddress()));
  return 0;
}
