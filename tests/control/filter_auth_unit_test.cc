// Unit tests for the control plane's gRPC-free parts: CIDR parsing and matching, connection
// filters, bearer-token checks, and reactorctl's unit parsing.
#include <gtest/gtest.h>

#include "server/control/auth.h"
#include "server/control/filter.h"
#include "units.h"

namespace reactord::control {
namespace {

reactor::SocketAddress addr(const char* text) { return *reactor::SocketAddress::parse(text); }

TEST(Cidr, ParsesPrefixesAddressesAndPorts) {
  std::string error;
  auto net = Cidr::parse("10.1.0.0/16", &error);
  ASSERT_TRUE(net) << error;
  EXPECT_TRUE(net->contains(addr("10.1.200.3:5000")));
  EXPECT_FALSE(net->contains(addr("10.2.0.1:5000")));
  EXPECT_FALSE(net->contains(addr("[::1]:5000")));

  auto odd = Cidr::parse("192.168.1.128/25", &error);
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(addr("192.168.1.200:1")));
  EXPECT_FALSE(odd->contains(addr("192.168.1.127:1")));

  auto any = Cidr::parse("0.0.0.0/0", &error);
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->contains(addr("8.8.8.8:53")));

  auto v6 = Cidr::parse("fd00::/8", &error);
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(addr("[fd12:3456::1]:80")));
  EXPECT_FALSE(v6->contains(addr("[fe80::1]:80")));

  auto host = Cidr::parse("127.0.0.1", &error);
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(addr("127.0.0.1:1")));
  EXPECT_FALSE(host->contains(addr("127.0.0.2:1")));

  auto exact = Cidr::parse("127.0.0.1:4242", &error);
  ASSERT_TRUE(exact);
  EXPECT_TRUE(exact->contains(addr("127.0.0.1:4242")));
  EXPECT_FALSE(exact->contains(addr("127.0.0.1:4243")));
  auto exact6 = Cidr::parse("[::1]:80", &error);
  ASSERT_TRUE(exact6);
  EXPECT_TRUE(exact6->contains(addr("[::1]:80")));

  // An IPv4 prefix matches IPv4-mapped IPv6 peers of a dual-stack socket.
  EXPECT_TRUE(net->contains(addr("[::ffff:10.1.2.3]:80")));
}

TEST(Cidr, RefusesBadInput) {
  for (const char* bad : {"", "banana", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::1/129", "1.2.3.4:70000",
                          "1.2.3.4:", "[::1]", "[::1]x", "1.2.3/8", "10.0.0.0/8/8", "/8"}) {
    std::string error;
    EXPECT_FALSE(Cidr::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

ConnectionRecord view(std::uint64_t id, const char* peer, std::uint64_t in) {
  ConnectionRecord v;
  v.id = id;
  v.peer = addr(peer);
  v.local = addr("127.0.0.1:9995");
  v.bytes_in = in;
  v.created = reactor::Clock::now() - std::chrono::seconds(10);
  v.last_activity = reactor::Clock::now() - std::chrono::seconds(2);
  return v;
}

TEST(Filter, CriteriaAreAndedAndNegationInvertsTheWhole) {
  auto now = reactor::Clock::now();
  RawFilter raw;
  raw.peer = "10.0.0.0/8";
  raw.min_bytes_in = 100;
  std::string error;
  auto f = make_filter(raw, &error);
  ASSERT_TRUE(f) << error;
  EXPECT_TRUE(f->matches(view(1, "10.0.0.1:1", 100), now));
  EXPECT_FALSE(f->matches(view(2, "10.0.0.1:1", 99), now));
  EXPECT_FALSE(f->matches(view(3, "11.0.0.1:1", 500), now));
  raw.negate = true;
  auto n = make_filter(raw, &error);
  EXPECT_FALSE(n->matches(view(1, "10.0.0.1:1", 100), now));
  EXPECT_TRUE(n->matches(view(2, "10.0.0.1:1", 99), now));

  RawFilter timing;
  timing.min_age_ms = 5000;
  timing.min_idle_ms = 1000;
  auto t = make_filter(timing, &error);
  EXPECT_TRUE(t->matches(view(1, "1.1.1.1:1", 0), now));
  timing.min_idle_ms = 3000;
  EXPECT_FALSE(make_filter(timing, &error)->matches(view(1, "1.1.1.1:1", 0), now));

  RawFilter ids;
  ids.ids = {7, 3, 3};
  auto i = make_filter(ids, &error);
  EXPECT_TRUE(i->matches(view(3, "1.1.1.1:1", 0), now));
  EXPECT_FALSE(i->matches(view(4, "1.1.1.1:1", 0), now));
  EXPECT_TRUE(make_filter(RawFilter{}, &error)->empty());
}

TEST(Filter, TlsSelectsTlsClientsAndNotTlsThePlaintextOnes) {
  auto now = reactor::Clock::now();
  ConnectionRecord plain = view(1, "10.0.0.1:1", 0);
  ConnectionRecord tls = view(2, "10.0.0.2:1", 0);
  tls.tls = ConnectionRecord::Tls{};
  RawFilter raw;
  raw.tls = true;
  std::string error;
  auto f = make_filter(raw, &error);
  ASSERT_TRUE(f) << error;
  EXPECT_FALSE(f->empty());
  EXPECT_TRUE(f->matches(tls, now));
  EXPECT_FALSE(f->matches(plain, now));
  raw.negate = true;  // reactorctl conns --not --tls
  auto n = make_filter(raw, &error);
  EXPECT_FALSE(n->matches(tls, now));
  EXPECT_TRUE(n->matches(plain, now));
}

TEST(Filter, RefusesNegativeDurationsAndBadPorts) {
  std::string error;
  RawFilter a;
  a.min_age_ms = -1;
  EXPECT_FALSE(make_filter(a, &error));
  EXPECT_NE(error.find("min_age_ms"), std::string::npos);
  RawFilter p;
  p.local_port = 65536;
  EXPECT_FALSE(make_filter(p, &error));
  RawFilter big;
  big.min_idle_ms = INT64_MAX;  // clamped, no overflow
  EXPECT_TRUE(make_filter(big, &error));
}

TEST(TokenAuth, RolesAndRefusals) {
  auto auth = TokenAuth::from_tokens("adm1n", "v1ewer");
  Role role;
  EXPECT_EQ(auth.check(std::nullopt, Role::kViewer, &role), AuthResult::kMissing);
  EXPECT_EQ(auth.check("adm1n", Role::kViewer, &role), AuthResult::kInvalid);  // no "Bearer "
  EXPECT_EQ(auth.check("Bearer ", Role::kViewer, &role), AuthResult::kInvalid);
  EXPECT_EQ(auth.check("Bearer adm1", Role::kViewer, &role), AuthResult::kInvalid);
  EXPECT_EQ(auth.check("Bearer adm1n2", Role::kViewer, &role), AuthResult::kInvalid);
  EXPECT_EQ(auth.check("Bearer v1ewer", Role::kViewer, &role), AuthResult::kOk);
  EXPECT_EQ(role, Role::kViewer);
  EXPECT_EQ(auth.check("Bearer v1ewer", Role::kAdmin, &role), AuthResult::kForbidden);
  EXPECT_EQ(auth.check("Bearer adm1n", Role::kAdmin, &role), AuthResult::kOk);
  EXPECT_EQ(role, Role::kAdmin);

  TokenAuth open;
  EXPECT_FALSE(open.enabled());
  EXPECT_EQ(open.check(std::nullopt, Role::kAdmin, &role), AuthResult::kOk);

  std::string error;
  EXPECT_FALSE(TokenAuth::load("/nonexistent/file", "", &error));
  EXPECT_NE(error.find("/nonexistent/file"), std::string::npos);
}

TEST(TokenAuth, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcabc", "abc"));  // wraps around: must still differ
  EXPECT_FALSE(constant_time_equal("", "abc"));
  EXPECT_FALSE(constant_time_equal("x", ""));
}

// Parsing is units/units.h (tests/units); these are reactorctl's rounded table formats.
TEST(ReactorctlUnits, TableFormats) {
  EXPECT_EQ(reactorctl::format_duration_us(1500), "1.5ms");
  EXPECT_EQ(reactorctl::format_duration_us(90'000'000), "1m30s");
  EXPECT_EQ(reactorctl::format_bytes(1536), "1.5K");
}

}  // namespace
}  // namespace reactord::control
