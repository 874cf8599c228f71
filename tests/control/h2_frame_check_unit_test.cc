// H2FrameCheck / H2FrameBoundary: the HTTP/2 guard's reading of frame headers, byte by byte
// and in any split, and each bound it holds a client to (server/h2_guard/h2_frame_check.h).
// The attacks over a real socket against the real binary: tests/control/h2_abuse.py.
#include "server/h2_guard/h2_frame_check.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::h2guard {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::size_t length) {
  std::string f;
  f.push_back(static_cast<char>(length >> 16));
  f.push_back(static_cast<char>(length >> 8));
  f.push_back(static_cast<char>(length));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>(stream >> shift));
  return f + std::string(length, 'x');
}

class H2FrameCheckTest : public ::testing::Test {
 protected:
  // Feeds `bytes` in pieces of `piece` bytes; the first violation's reason, or "" for none.
  std::string feed(const std::string& bytes, std::size_t piece = 1 << 20) {
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      const std::size_t n = std::min(piece, bytes.size() - at);
      auto v = check.feed(reinterpret_cast<const std::uint8_t*>(bytes.data() + at), n, now, rst);
      if (v) {
        code = v->code;
        return v->reason;
      }
    }
    return "";
  }

  reactor::TimePoint now = reactor::Clock::now();
  H2FrameLimits limits;
  H2FrameCheck check{limits, now};
  TokenBucket rst{5, 1, now};
  H2Error code{};
};

TEST_F(H2FrameCheckTest, AWellBehavedConversationPassesInAnySplit) {
  std::string c = kPreface + frame(4, 0, 0, 12) + frame(1, 0x4, 1, 200) + frame(0, 0x1, 1, 16384) +
                  frame(6, 0, 0, 8) + frame(4, 1, 0, 0) + frame(1, 0, 3, 100) + frame(9, 0x4, 3, 100) +
                  frame(3, 0, 5, 4) + frame(8, 0, 0, 4);
  for (std::size_t piece : {1, 7, 9, 100, 100000}) {
    H2FrameCheck fresh(limits, now);
    check = fresh;
    EXPECT_EQ(feed(c, piece), "") << piece;
    EXPECT_EQ(check.last_stream_id(), 3u);
    EXPECT_EQ(check.frames(), 9u);
  }
}

TEST_F(H2FrameCheckTest, ABadPrefaceIsAProtocolError) {
  EXPECT_EQ(feed("GET / HTTP/1.1\r\n\r\n"), "protocol");
  EXPECT_EQ(code, H2Error::kProtocolError);
}

TEST_F(H2FrameCheckTest, AFrameLongerThanTheMaxFrameSizeIsAFrameSizeErrorFromItsHeaderAlone) {
  std::string header = frame(0, 0, 1, 0);
  header[0] = 0x01;  // 65,536 + ... bytes announced; no payload needed to refuse it
  EXPECT_EQ(feed(kPreface + header, 3), "frame_size");
  EXPECT_EQ(code, H2Error::kFrameSizeError);
}

TEST_F(H2FrameCheckTest, AHeaderBlockAboveTheByteBoundIsRefused) {
  std::string c = kPreface + frame(1, 0, 1, 16000);
  for (int i = 0; i < 3; ++i) c += frame(9, 0, 1, 16000);
  EXPECT_EQ(feed(c), "");  // 64,000 bytes: at the bound
  EXPECT_EQ(feed(frame(9, 0, 1, 16000)), "header_block");
  EXPECT_EQ(code, H2Error::kEnhanceYourCalm);
}

TEST_F(H2FrameCheckTest, ManyEmptyContinuationFramesAreRefused) {
  std::string c = kPreface + frame(1, 0, 1, 10);
  for (int i = 0; i < limits.max_header_block_frames - 1; ++i) c += frame(9, 0, 1, 0);
  EXPECT_EQ(feed(c), "");
  EXPECT_EQ(feed(frame(9, 0, 1, 0)), "header_block");
}

TEST_F(H2FrameCheckTest, AFrameInsideAHeaderBlockOrAStrayContinuationIsAProtocolError) {
  EXPECT_EQ(feed(kPreface + frame(1, 0, 1, 10) + frame(6, 0, 0, 8)), "protocol");
  H2FrameCheck fresh(limits, now);
  check = fresh;
  EXPECT_EQ(feed(kPreface + frame(9, 0x4, 1, 10)), "protocol");
}

TEST_F(H2FrameCheckTest, RstStreamTakesFromThePeersBudgetAndRefillsWithTime) {
  std::string c = kPreface;
  for (int i = 0; i < 5; ++i) c += frame(3, 0, 2 * i + 1, 4);
  EXPECT_EQ(feed(c), "");
  EXPECT_EQ(feed(frame(3, 0, 11, 4)), "rst_rate");
  EXPECT_EQ(code, H2Error::kEnhanceYourCalm);
  // Another connection of the same peer shares the budget; after 2 s it has 2 tokens again.
  H2FrameCheck other(limits, now);
  check = other;
  EXPECT_EQ(feed(kPreface + frame(3, 0, 1, 4)), "rst_rate");
  now += std::chrono::seconds(2);
  H2FrameCheck later(limits, now);
  check = later;
  EXPECT_EQ(feed(kPreface + frame(3, 0, 1, 4) + frame(3, 0, 3, 4)), "");
}

TEST_F(H2FrameCheckTest, StreamsOpenAreCountedUntilTheServerEndsThemOrTheClientResets) {
  limits.max_open_streams = 3;
  H2FrameCheck bounded(limits, now);
  check = bounded;
  EXPECT_EQ(feed(kPreface + frame(1, 0x5, 1, 10) + frame(1, 0x5, 3, 10) + frame(1, 0x5, 5, 10)), "");
  EXPECT_EQ(check.open_streams(), 3u);
  check.server_frame(1, 0x4, 1);  // response headers: still open
  check.server_frame(1, 0x5, 1);  // trailers with END_STREAM: ended
  check.server_frame(3, 0, 3);    // RST_STREAM from the server: ended
  EXPECT_EQ(check.open_streams(), 1u);
  EXPECT_EQ(feed(frame(1, 0x5, 7, 10) + frame(3, 0, 7, 4) + frame(1, 0x5, 9, 10) + frame(1, 0x5, 11, 10)),
            "");
  EXPECT_EQ(check.open_streams(), 3u);
  EXPECT_EQ(feed(frame(1, 0x5, 13, 10)), "streams");
  EXPECT_EQ(code, H2Error::kEnhanceYourCalm);
}

TEST_F(H2FrameCheckTest, PingAndSettingsFloodsAreRefusedAcksAreNot) {
  std::string acks = kPreface;
  for (int i = 0; i < 500; ++i) acks += frame(6, 1, 0, 8) + frame(4, 1, 0, 0);
  EXPECT_EQ(feed(acks), "");
  std::string pings;
  for (int i = 0; i < 100; ++i) pings += frame(6, 0, 0, 8);
  EXPECT_EQ(feed(pings), "");
  EXPECT_EQ(feed(frame(6, 0, 0, 8)), "ping_rate");
  H2FrameCheck fresh(limits, now);
  check = fresh;
  std::string settings = kPreface;
  for (int i = 0; i < 32; ++i) settings += frame(4, 0, 0, 6);
  EXPECT_EQ(feed(settings), "");
  EXPECT_EQ(feed(frame(4, 0, 0, 6)), "settings_rate");
}

TEST(H2FrameBoundaryTest, KnowsWhereFramesEndInAnySplit) {
  const std::string frames = frame(4, 0, 0, 6) + frame(0, 0, 1, 1000) + frame(8, 0, 0, 4);
  for (std::size_t piece : {1, 5, 9, 1000}) {
    H2FrameBoundary b;
    for (std::size_t at = 0; at < frames.size(); at += piece) {
      const std::size_t n = std::min(piece, frames.size() - at);
      b.feed(reinterpret_cast<const std::uint8_t*>(frames.data() + at), n);
      const std::size_t fed = at + n;
      const bool boundary = fed == 15 || fed == 15 + 1009 || fed == frames.size();
      EXPECT_EQ(b.at_boundary(), boundary) << piece << " " << fed;
    }
  }
}

TEST(H2FrameBoundaryTest, ReadsTheServersMaxFrameSizeAndTheCheckFollowsIt) {
  // SETTINGS with HEADER_TABLE_SIZE 4096 and MAX_FRAME_SIZE 1 MiB, split anywhere; an ACK
  // with a payload-less header and a larger value in a DATA frame change nothing.
  std::string settings = frame(4, 0, 0, 0);
  settings[2] = 12;
  settings += std::string("\x00\x01\x00\x00\x10\x00\x00\x05\x00\x10\x00\x00", 12);
  std::string data = frame(0, 0, 1, 0);
  data[2] = 6;
  data += std::string("\x00\x05\x01\x00\x00\x00", 6);
  const std::string frames = frame(4, 1, 0, 0) + settings + data;
  for (std::size_t piece : {1, 4, 100}) {
    H2FrameBoundary b;
    for (std::size_t at = 0; at < frames.size(); at += piece) {
      b.feed(reinterpret_cast<const std::uint8_t*>(frames.data() + at), std::min(piece, frames.size() - at));
    }
    EXPECT_EQ(b.max_frame_bytes(), std::size_t{1} << 20) << piece;
    EXPECT_TRUE(b.at_boundary());
  }
  const auto now = reactor::Clock::now();
  H2FrameCheck check(H2FrameLimits{}, now);
  TokenBucket rst(1, 1, now);
  const std::string big = std::string(kPreface) + frame(0, 0, 1, 100000);
  check.allow_frames_up_to(std::size_t{1} << 20);
  EXPECT_FALSE(check.feed(reinterpret_cast<const std::uint8_t*>(big.data()), big.size(), now, rst));
}

TEST(H2GoawayFrameTest, CarriesLastStreamCodeAndDebugData) {
  const std::string f = goaway_frame(7, H2Error::kEnhanceYourCalm, "calm");
  ASSERT_EQ(f.size(), 9u + 8 + 4);
  EXPECT_EQ(f[2], 12);
  EXPECT_EQ(f[3], 7);                               // GOAWAY
  EXPECT_EQ(f.substr(5, 4), std::string(4, '\0'));  // stream 0
  EXPECT_EQ(f[12], 7);                              // last stream id
  EXPECT_EQ(f[16], 0x0b);                           // ENHANCE_YOUR_CALM
  EXPECT_EQ(f.substr(17), "calm");
}

}  // namespace
}  // namespace reactord::h2guard
