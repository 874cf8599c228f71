// parse_request_head and HttpRequest: the bounded request-head parser of our HTTP server.
#include "server/http/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::http {
namespace {

using Kind = ParsedHead::Kind;

TEST(HttpRequestParse, ACompleteGetWithQueryAndHeaders) {
  const std::string text = "GET /api/x.json?state=open&q=a+b%21 HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\n\r\nNEXT";
  ParsedHead head = parse_request_head(text, {});
  ASSERT_EQ(head.kind, Kind::kComplete) << head.error;
  EXPECT_EQ(head.consumed, text.size() - 4);
  EXPECT_EQ(head.request.method, "GET");
  EXPECT_EQ(head.request.path, "/api/x.json");
  EXPECT_EQ(head.request.query, "state=open&q=a+b%21");
  EXPECT_EQ(head.request.query_param("q"), "a b!");
  EXPECT_EQ(head.request.query_param("state"), "open");
  EXPECT_EQ(head.request.query_param("missing"), std::nullopt);
  ASSERT_NE(head.request.header("x-a"), nullptr);
  EXPECT_EQ(*head.request.header("x-a"), "v");
  EXPECT_TRUE(head.request.keep_alive());
}

TEST(HttpRequestParse, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
  ParsedHead head = parse_request_head("\r\n\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n", {});
  ASSERT_EQ(head.kind, Kind::kComplete) << head.error;
  EXPECT_TRUE(head.request.is_head());
  EXPECT_EQ(head.request.version_minor, 0);
  EXPECT_TRUE(head.request.keep_alive());
  EXPECT_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n", {}).request.keep_alive());
  EXPECT_FALSE(
      parse_request_head("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n", {}).request.keep_alive());
}

TEST(HttpRequestParse, APartialHeadIsIncomplete) {
  EXPECT_EQ(parse_request_head("", {}).kind, Kind::kIncomplete);
  EXPECT_EQ(parse_request_head("GET /metr", {}).kind, Kind::kIncomplete);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nHost: x\r\n", {}).kind, Kind::kIncomplete);
}

TEST(HttpRequestParse, TooManyHeaderLinesIs431EvenBeforeTheHeadEnds) {
  HeadLimits limits{8192, 4};
  std::string text = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i) text += "X-" + std::to_string(i) + ": y\r\n";
  ParsedHead head = parse_request_head(text, limits);
  EXPECT_EQ(head.kind, Kind::kError);
  EXPECT_EQ(head.error_status, 431);
}

TEST(HttpRequestParse, AHeadLongerThanTheLimitIs431AndALongRequestLine414) {
  HeadLimits limits{256, 64};
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), limits).error_status, 431);
  EXPECT_EQ(parse_request_head("GET /" + std::string(300, 'a'), limits).error_status, 414);
  // Exactly at the limit, complete: accepted.
  std::string exact = "GET / HTTP/1.1\r\nX: ";
  exact += std::string(256 - exact.size() - 4, 'b') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 256u);
  EXPECT_EQ(parse_request_head(exact, limits).kind, Kind::kComplete);
}

TEST(HttpRequestParse, MalformedHeadsAreRefusedWithTheRightStatus) {
  EXPECT_EQ(parse_request_head("GET /\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GET http://x/ HTTP/1.1\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GE(T / HTTP/1.1\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GET / HTTP/2.0\r\n\r\n", {}).error_status, 505);
  EXPECT_EQ(parse_request_head("GET / SPDY/3\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nNo colon\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", {}).error_status, 400);
  EXPECT_EQ(
      parse_request_head("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", {}).error_status,
      400);
  ParsedHead chunked = parse_request_head("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", {});
  ASSERT_EQ(chunked.kind, Kind::kComplete);
  EXPECT_TRUE(chunked.request.has_transfer_encoding);
}

TEST(HttpRequestParse, UriDecode) {
  EXPECT_EQ(uri_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(uri_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(uri_decode("bad%zz%4", true), "bad%zz%4");
}

}  // namespace
}  // namespace reactord::http
