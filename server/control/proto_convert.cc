#include "proto_convert.h"

#include "request_limits.h"

#include "server/server.h"

namespace reactord::control {

namespace {
std::int64_t ms_between(std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) {
  if (to <= from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}
}  // namespace

v1::ServerState to_proto(ServerState state) {
  switch (state) {
    case ServerState::kServing:
      return v1::SERVER_STATE_SERVING;
    case ServerState::kDraining:
      return v1::SERVER_STATE_DRAINING;
    case ServerState::kStopping:
    case ServerState::kStopped:
      return v1::SERVER_STATE_STOPPING;
    case ServerState::kCreated:
      break;
  }
  return v1::SERVER_STATE_UNSPECIFIED;
}

v1::ConnectionState to_proto(ConnState state) {
  switch (state) {
    case ConnState::kOpen:
      return v1::CONNECTION_STATE_OPEN;
    case ConnState::kReadPaused:
      return v1::CONNECTION_STATE_READ_PAUSED;
    case ConnState::kClosing:
      return v1::CONNECTION_STATE_CLOSING;
    case ConnState::kClosed:
      return v1::CONNECTION_STATE_CLOSED;
    case ConnState::kDraining:
      return v1::CONNECTION_STATE_DRAINING;
  }
  return v1::CONNECTION_STATE_UNSPECIFIED;
}

void to_proto(const ConnectionView& v, std::chrono::steady_clock::time_point now, v1::Connection* out) {
  out->set_id(v.id);
  out->set_loop(v.loop);
  out->set_peer_address(v.peer.to_string());
  out->set_local_address(v.local.to_string());
  out->set_state(to_proto(v.state));
  out->set_opened_unix_ms(v.opened_unix_ms);
  out->set_age_ms(ms_between(v.opened_at, now));
  out->set_idle_ms(ms_between(v.last_activity, now));
  out->set_bytes_in(v.bytes_in);
  out->set_bytes_out(v.bytes_out);
  out->set_input_buffered(v.input_buffered);
  out->set_output_buffered(v.output_buffered);
  out->set_read_suspended(v.read_suspended);
  if (v.tls) {
    out->set_tls(true);
    out->set_tls_handshake_done(v.tls_handshake_done);
    out->set_tls_version(v.tls_version);
    out->set_tls_cipher(v.tls_cipher);
    out->set_tls_sni(v.tls_sni);
    out->set_tls_peer_subject(v.tls_peer_subject);
    out->set_tls_alpn(v.tls_alpn);
    out->set_tls_ktls(v.tls_ktls);
  }
  if (v.rate_limit_bytes_per_second) {
    out->mutable_rate_limit()->set_bytes_per_second(*v.rate_limit_bytes_per_second);
    out->mutable_rate_limit()->set_burst(v.rate_limit_burst);
  }
  out->set_rate_limit_total(v.rate_limit_total);
  out->set_throttled(v.throttled);
  out->set_throttled_ms(std::chrono::duration_cast<std::chrono::milliseconds>(v.throttled_time).count());
  out->set_bytes_delayed(v.bytes_delayed);
  if (!v.detailed) return;
  out->set_fd(v.fd);
  out->set_read_low_watermark(v.read_low_watermark);
  out->set_read_high_watermark(v.read_high_watermark);
  out->set_write_low_watermark(v.write_low_watermark);
  auto* t = out->mutable_tcp_info();
  t->set_valid(v.tcp.valid);
  t->set_state(v.tcp.state);
  t->set_rtt_us(v.tcp.rtt_us);
  t->set_rttvar_us(v.tcp.rttvar_us);
  t->set_retransmits(v.tcp.retransmits);
  t->set_total_retrans(v.tcp.total_retrans);
  t->set_snd_cwnd(v.tcp.snd_cwnd);
  t->set_snd_mss(v.tcp.snd_mss);
  t->set_unacked(v.tcp.unacked);
  for (const auto& e : v.events) to_proto(e, v.loop, out->add_events());
}

std::optional<FilterSpec> filter_from_proto(const v1::ConnectionFilter& f, std::string* error) {
  // Sizes first: nothing is copied or parsed for an oversized request.
  if (static_cast<std::size_t>(f.ids_size()) > kMaxIdsPerCall) {
    if (error) {
      *error = "filter.ids holds " + std::to_string(f.ids_size()) + " ids; at most " +
               std::to_string(kMaxIdsPerCall) + " per call (select more with a filter)";
    }
    return std::nullopt;
  }
  if (f.peer().size() > kMaxPeerFilterBytes) {
    if (error) {
      *error = "filter.peer is " + std::to_string(f.peer().size()) + " bytes long; at most " +
               std::to_string(kMaxPeerFilterBytes) + " (an address, address:port or CIDR)";
    }
    return std::nullopt;
  }
  RawFilter raw;
  raw.ids.assign(f.ids().begin(), f.ids().end());
  raw.peer = f.peer();
  raw.local_port = f.local_port();
  if (f.has_loop()) raw.loop = f.loop();
  switch (f.state()) {
    case v1::CONNECTION_STATE_UNSPECIFIED:
      break;
    case v1::CONNECTION_STATE_OPEN:
      raw.state = ConnState::kOpen;
      break;
    case v1::CONNECTION_STATE_READ_PAUSED:
      raw.state = ConnState::kReadPaused;
      break;
    case v1::CONNECTION_STATE_CLOSING:
      raw.state = ConnState::kClosing;
      break;
    case v1::CONNECTION_STATE_DRAINING:
      raw.state = ConnState::kDraining;
      break;
    default:
      if (error) *error = "filter.state " + std::to_string(f.state()) + " is not a live state";
      return std::nullopt;
  }
  raw.min_age_ms = f.min_age_ms();
  raw.min_idle_ms = f.min_idle_ms();
  raw.min_bytes_in = f.min_bytes_in();
  raw.min_bytes_out = f.min_bytes_out();
  raw.min_buffered = f.min_buffered();
  raw.negate = f.negate();
  raw.tls = f.tls();
  return make_filter(raw, error);
}

}  // namespace reactord::control
