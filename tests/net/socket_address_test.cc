// SocketAddress: parsing, printing, resolution, and local/peer addresses of real sockets.
#include "reactor/socket_address.h"

#include <gtest/gtest.h>

#include "net_test_support.h"

namespace {

using reactor::SocketAddress;

TEST(SocketAddressTest, ParsesIpv4) {
  const auto a = SocketAddress::parse("10.1.2.3:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_FALSE(a->is_ipv6());
  EXPECT_EQ(a->port(), 8080);
  EXPECT_EQ(a->host(), "10.1.2.3");
  EXPECT_EQ(a->to_string(), "10.1.2.3:8080");
  EXPECT_EQ(a->length(), sizeof(sockaddr_in));
  EXPECT_FALSE(a->is_loopback());
}

TEST(SocketAddressTest, ParsesIpv6InBrackets) {
  const auto a = SocketAddress::parse("[::1]:443");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_ipv6());
  EXPECT_EQ(a->port(), 443);
  EXPECT_EQ(a->host(), "::1");
  EXPECT_EQ(a->to_string(), "[::1]:443");
  EXPECT_TRUE(a->is_loopback());
  const auto b = SocketAddress::parse("[2001:db8::5]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->to_string(), "[2001:db8::5]:0");
}

TEST(SocketAddressTest, RejectsBadInputWithAReason) {
  for (const char* bad :
       {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:8x", ":80", "[::1:80", "[::1]80",
        "::1:80", "1.2.3:80", "300.1.1.1:80", "[1.2.3.4]:80", "host.example:80", "[]:1", "1.2.3.4: 80"}) {
    std::string error;
    EXPECT_FALSE(SocketAddress::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4"));  // no error pointer: still no crash
}

TEST(SocketAddressTest, PortBoundsAndSetPort) {
  auto a = SocketAddress::parse("0.0.0.0:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port(), 0);
  a->set_port(65535);
  EXPECT_EQ(a->to_string(), "0.0.0.0:65535");
  auto b = SocketAddress::parse("[::]:65535");
  ASSERT_TRUE(b);
  b->set_port(7);
  EXPECT_EQ(b->to_string(), "[::]:7");
}

TEST(SocketAddressTest, LoopbackHelpersAndEquality) {
  const auto v4 = SocketAddress::ipv4_loopback(9);
  const auto v6 = SocketAddress::ipv6_loopback(9);
  EXPECT_EQ(v4.to_string(), "127.0.0.1:9");
  EXPECT_EQ(v6.to_string(), "[::1]:9");
  EXPECT_TRUE(v4.is_loopback());
  EXPECT_TRUE(v6.is_loopback());
  EXPECT_EQ(v4, *SocketAddress::parse("127.0.0.1:9"));
  EXPECT_EQ(v6, *SocketAddress::parse("[::1]:9"));
  EXPECT_FALSE(v4 == v6);
  EXPECT_FALSE(v4 == SocketAddress::ipv4_loopback(10));
  EXPECT_TRUE(SocketAddress::parse("127.200.0.1:1")->is_loopback());
  EXPECT_TRUE(SocketAddress::parse("[::ffff:127.0.0.1]:1")->is_loopback());
  EXPECT_EQ(SocketAddress().family(), AF_UNSPEC);
  EXPECT_EQ(SocketAddress().port(), 0);
}

TEST(SocketAddressTest, ResolvesNumericAndLocalhost) {
  const auto numeric = SocketAddress::resolve("127.0.0.1:80");
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->to_string(), "127.0.0.1:80");
  std::string error;
  const auto local = SocketAddress::resolve("localhost:81", &error);
  ASSERT_TRUE(local) << error;
  EXPECT_TRUE(local->is_loopback());
  EXPECT_EQ(local->port(), 81);
  EXPECT_FALSE(SocketAddress::resolve("no-such-host.invalid:80", &error));
  EXPECT_NE(error.find("no-such-host.invalid"), std::string::npos);
  EXPECT_FALSE(SocketAddress::resolve("localhost:99999", &error));
}

TEST(SocketAddressTest, LocalAndPeerOfARealConnection) {
  auto pair = reactord::test_support::tcp_pair();
  const auto client_local = SocketAddress::local_of(pair.client.get());
  const auto client_peer = SocketAddress::peer_of(pair.client.get());
  const auto server_local = SocketAddress::local_of(pair.server.get());
  const auto server_peer = SocketAddress::peer_of(pair.server.get());
  EXPECT_TRUE(client_local.is_loopback());
  EXPECT_NE(client_local.port(), 0);
  EXPECT_EQ(client_local, server_peer);
  EXPECT_EQ(client_peer, server_local);
  EXPECT_EQ(SocketAddress::peer_of(-1).family(), AF_UNSPEC);  // error: unspecified, no crash
}

}  // namespace
