// TcpInfo: the fields of Linux's struct tcp_info an operator looks at (GetConnection's
// details), as a value.
#pragma once

#include <cstdint>

namespace reactord {

struct TcpInfo {
  bool valid = false;  // false: getsockopt(TCP_INFO) failed (or no socket)
  std::uint32_t state = 0;
  std::uint32_t rtt_us = 0;
  std::uint32_t rttvar_us = 0;
  std::uint32_t retransmits = 0;
  std::uint32_t total_retrans = 0;
  std::uint32_t snd_cwnd = 0;
  std::uint32_t snd_mss = 0;
  std::uint32_t unacked = 0;
};

// getsockopt(TCP_INFO) on fd; valid = false when it fails. Any thread, but the fd must stay
// open: call it on the connection's loop thread.
TcpInfo read_tcp_info(int fd);

}  // namespace reactord
