#include "h2_frame_check.h"

#include <algorithm>
#include <cstring>

namespace reactord::h2guard {

namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kPrefaceSize = sizeof(kPreface) - 1;

enum FrameType : std::uint8_t {
  kHeaders = 0x1,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoaway = 0x7,
  kContinuation = 0x9,
};
constexpr std::uint8_t kAck = 0x1;
constexpr std::uint8_t kEndHeaders = 0x4;

H2Violation violation(H2Error code, const char* reason, std::string detail) {
  return H2Violation{code, reason, std::move(detail)};
}

}  // namespace

void TokenBucket::refill(reactor::TimePoint now) {
  if (now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }
}

bool TokenBucket::take(reactor::TimePoint now) {
  refill(now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::full(reactor::TimePoint now) const {
  TokenBucket copy = *this;
  copy.refill(now);
  return copy.tokens_ >= copy.burst_;
}

H2FrameCheck::H2FrameCheck(const H2FrameLimits& limits, reactor::TimePoint now)
    : limits_(limits),
      pings_(limits.ping_burst, limits.ping_per_second, now),
      settings_(limits.settings_burst, limits.settings_per_second, now),
      resets_(limits.rst_burst, limits.rst_per_second, now) {}

std::optional<H2Violation> H2FrameCheck::feed(const std::uint8_t* data, std::size_t size,
                                              reactor::TimePoint now, TokenBucket& rst_budget) {
  std::size_t at = 0;
  while (at < size) {
    if (preface_seen_ < kPrefaceSize) {
      const std::size_t n = std::min(size - at, kPrefaceSize - preface_seen_);
      if (std::memcmp(data + at, kPreface + preface_seen_, n) != 0) {
        return violation(H2Error::kProtocolError, "protocol", "not an HTTP/2 connection preface");
      }
      preface_seen_ += n;
      at += n;
      continue;
    }
    if (payload_left_ > 0) {
      const std::size_t n = std::min(size - at, payload_left_);
      payload_left_ -= n;
      at += n;
      continue;
    }
    const std::size_t n = std::min(size - at, sizeof(header_) - header_fill_);
    std::memcpy(header_ + header_fill_, data + at, n);
    header_fill_ += n;
    at += n;
    if (header_fill_ == sizeof(header_)) {
      header_fill_ = 0;
      if (auto v = on_header(now, rst_budget)) return v;
    }
  }
  return std::nullopt;
}

std::optional<H2Violation> H2FrameCheck::on_header(reactor::TimePoint now, TokenBucket& rst_budget) {
  const std::size_t length = (std::size_t{header_[0]} << 16) | (std::size_t{header_[1]} << 8) | header_[2];
  const std::uint8_t type = header_[3];
  const std::uint8_t flags = header_[4];
  const std::uint32_t stream = ((std::uint32_t{header_[5]} << 24) | (std::uint32_t{header_[6]} << 16) |
                                (std::uint32_t{header_[7]} << 8) | header_[8]) &
                               0x7FFFFFFFu;
  ++frames_;
  payload_left_ = length;
  if (length > limits_.max_frame_bytes) {
    return violation(H2Error::kFrameSizeError, "frame_size",
                     "frame of " + std::to_string(length) + " bytes; the max frame size is " +
                         std::to_string(limits_.max_frame_bytes));
  }
  if (in_header_block_ && (type != kContinuation || stream != header_block_stream_)) {
    return violation(H2Error::kProtocolError, "protocol", "a frame inside a header block (RFC 9113 §6.10)");
  }
  switch (type) {
    case kHeaders:
    case kPushPromise:
      if (type == kHeaders && (stream & 1) && stream > last_stream_id_) {
        last_stream_id_ = stream;
        open_streams_.insert(stream);
        if (open_streams_.size() > limits_.max_open_streams) {
          return violation(H2Error::kEnhanceYourCalm, "streams",
                           "more than " + std::to_string(limits_.max_open_streams) + " streams open");
        }
      }
      header_block_stream_ = stream;
      header_block_bytes_ = length;
      header_block_frames_ = 1;
      in_header_block_ = !(flags & kEndHeaders);
      break;
    case kContinuation:
      if (!in_header_block_) {
        return violation(H2Error::kProtocolError, "protocol", "CONTINUATION without a header block");
      }
      header_block_bytes_ += length;
      ++header_block_frames_;
      if (header_block_bytes_ > limits_.max_header_block_bytes ||
          header_block_frames_ > limits_.max_header_block_frames) {
        return violation(H2Error::kEnhanceYourCalm, "header_block",
                         "header block above " + std::to_string(limits_.max_header_block_bytes) +
                             " bytes or " + std::to_string(limits_.max_header_block_frames) + " frames");
      }
      if (flags & kEndHeaders) in_header_block_ = false;
      break;
    case kRstStream:
      open_streams_.erase(stream);
      if (!resets_.take(now) || !rst_budget.take(now)) {
        return violation(H2Error::kEnhanceYourCalm, "rst_rate", "RST_STREAM above the rate (rapid reset)");
      }
      break;
    case kPing:
      if (!(flags & kAck) && !pings_.take(now)) {
        return violation(H2Error::kEnhanceYourCalm, "ping_rate", "PING above the rate");
      }
      break;
    case kSettings:
      if (!(flags & kAck) && !settings_.take(now)) {
        return violation(H2Error::kEnhanceYourCalm, "settings_rate", "SETTINGS above the rate");
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

void H2FrameBoundary::feed(const std::uint8_t* data, std::size_t size, H2FrameCheck* check) {
  std::size_t at = 0;
  while (at < size) {
    if (payload_left_ > 0) {
      const std::size_t n = std::min(size - at, payload_left_);
      if (in_settings_ && settings_.size() < 1024) {
        settings_.append(reinterpret_cast<const char*>(data + at), std::min(n, 1024 - settings_.size()));
      }
      payload_left_ -= n;
      at += n;
      if (payload_left_ == 0 && in_settings_) on_settings();
      continue;
    }
    header_[header_fill_++] = data[at++];
    if (header_fill_ == sizeof(header_)) {
      header_fill_ = 0;
      payload_left_ = (std::size_t{header_[0]} << 16) | (std::size_t{header_[1]} << 8) | header_[2];
      in_settings_ = header_[3] == kSettings && !(header_[4] & kAck);
      if (check) {
        const std::uint32_t stream = ((std::uint32_t{header_[5]} << 24) | (std::uint32_t{header_[6]} << 16) |
                                      (std::uint32_t{header_[7]} << 8) | header_[8]) &
                                     0x7FFFFFFFu;
        check->server_frame(header_[3], header_[4], stream);
      }
      settings_.clear();
      if (payload_left_ == 0 && in_settings_) on_settings();
    }
  }
}

void H2FrameCheck::server_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream) {
  constexpr std::uint8_t kData = 0x0;
  constexpr std::uint8_t kEndStream = 0x1;
  if (type == kRstStream || ((type == kHeaders || type == kData) && (flags & kEndStream))) {
    open_streams_.erase(stream);
  }
}

void H2FrameBoundary::on_settings() {
  in_settings_ = false;
  constexpr std::uint16_t kMaxFrameSize = 0x5;
  for (std::size_t i = 0; i + 6 <= settings_.size(); i += 6) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(settings_.data() + i);
    const std::uint16_t id = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    const std::size_t value =
        (std::size_t{p[2]} << 24) | (std::size_t{p[3]} << 16) | (std::size_t{p[4]} << 8) | p[5];
    if (id == kMaxFrameSize && value > max_frame_bytes_) max_frame_bytes_ = value;
  }
}

std::string goaway_frame(std::uint32_t last_stream_id, H2Error code, const std::string& debug) {
  const std::string data = debug.substr(0, 256);
  const std::size_t length = 8 + data.size();
  std::string f;
  f.reserve(9 + length);
  auto put32 = [&f](std::uint32_t v) {
    f.push_back(static_cast<char>(v >> 24));
    f.push_back(static_cast<char>(v >> 16));
    f.push_back(static_cast<char>(v >> 8));
    f.push_back(static_cast<char>(v));
  };
  f.push_back(static_cast<char>(length >> 16));
  f.push_back(static_cast<char>(length >> 8));
  f.push_back(static_cast<char>(length));
  f.push_back(static_cast<char>(kGoaway));
  f.push_back(0);
  put32(0);
  put32(last_stream_id & 0x7FFFFFFFu);
  put32(static_cast<std::uint32_t>(code));
  f += data;
  return f;
}

}  // namespace reactord::h2guard
