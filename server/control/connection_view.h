// ConnectionView: a plain copy of one connection's state, taken on its loop thread, that the
// control plane filters, sorts and turns into protobuf on a gRPC thread. No gRPC in here: the
// filter and its tests include this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/connection_record.h"
#include "server/service_values.h"

namespace reactord::control {

enum class ConnState { kOpen, kReadPaused, kClosing, kClosed, kDraining };
const char* to_string(ConnState state);

// Linux struct tcp_info, the fields an operator looks at.
struct TcpInfoView {
  bool valid = false;
  std::uint32_t state = 0;
  std::uint32_t rtt_us = 0;
  std::uint32_t rttvar_us = 0;
  std::uint32_t retransmits = 0;
  std::uint32_t total_retrans = 0;
  std::uint32_t snd_cwnd = 0;
  std::uint32_t snd_mss = 0;
  std::uint32_t unacked = 0;
};

// getsockopt(TCP_INFO) on fd; valid = false when it fails. Any thread (but fd must stay open,
// so call it on the connection's loop thread).
TcpInfoView read_tcp_info(int fd);

// Its rate limits: the base, the same value type as in ConnectionRecord.
struct ConnectionView : ConnectionRateLimitState {
  std::uint64_t id = 0;
  unsigned loop = 0;
  SocketAddress peer;
  SocketAddress local;
  ConnState state = ConnState::kOpen;
  std::chrono::steady_clock::time_point opened_at{};
  std::chrono::steady_clock::time_point last_activity{};  // last read or write (opened_at if none yet)
  std::int64_t opened_unix_ms = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t input_buffered = 0;
  std::uint64_t output_buffered = 0;
  // A client of --tls-listen; the strings are empty until its handshake is done.
  bool tls = false;
  bool tls_handshake_done = false;
  std::string tls_version;
  std::string tls_cipher;
  std::string tls_sni;
  std::string tls_peer_subject;
  std::string tls_alpn;
  bool tls_ktls = false;
  // Details, filled only when asked for (GetConnection).
  bool detailed = false;
  int fd = -1;
  std::uint64_t read_low_watermark = 0;
  std::uint64_t read_high_watermark = 0;
  std::uint64_t write_low_watermark = 0;
  bool read_suspended = false;
  TcpInfoView tcp;
  std::vector<EventInfo> events;
};

}  // namespace reactord::control
