#include "server/tcp_info.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace reactord {

TcpInfo read_tcp_info(int fd) {
  TcpInfo v;
  if (fd < 0) return v;
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return v;
  v.valid = true;
  v.state = info.tcpi_state;
  v.rtt_us = info.tcpi_rtt;
  v.rttvar_us = info.tcpi_rttvar;
  v.retransmits = info.tcpi_retransmits;
  v.total_retrans = info.tcpi_total_retrans;
  v.snd_cwnd = info.tcpi_snd_cwnd;
  v.snd_mss = info.tcpi_snd_mss;
  v.unacked = info.tcpi_unacked;
  return v;
}

}  // namespace reactord
