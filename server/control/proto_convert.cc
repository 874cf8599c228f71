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

v1::ConnectionState to_proto(ConnectionState state) {
  switch (state) {
    case ConnectionState::kOpen:
      return v1::CONNECTION_STATE_OPEN;
    case ConnectionState::kReadPaused:
      return v1::CONNECTION_STATE_READ_PAUSED;
    case ConnectionState::kClosing:
      return v1::CONNECTION_STATE_CLOSING;
    case ConnectionState::kClosed:
      return v1::CONNECTION_STATE_CLOSED;
    case ConnectionState::kDraining:
      return v1::CONNECTION_STATE_DRAINING;
  }
  return v1::CONNECTION_STATE_UNSPECIFIED;
}

void to_proto(const ConnectionRecord& r, std::chrono::steady_clock::time_point now, v1::Connection* out) {
  out->set_id(r.id);
  out->set_loop(r.loop);
  out->set_peer_address(r.peer.to_string());
  out->set_local_address(r.local.to_string());
  out->set_state(to_proto(r.state));
  out->set_opened_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(r.created_wall.time_since_epoch()).count());
  out->set_age_ms(ms_between(r.created, now));
  out->set_idle_ms(ms_between(r.last_activity, now));
  out->set_bytes_in(r.bytes_in);
  out->set_bytes_out(r.bytes_out);
  out->set_input_buffered(r.bytes_buffered_in);
  out->set_output_buffered(r.bytes_buffered_out);
  out->set_read_suspended(r.read_suspended());
  if (r.tls) {
    out->set_tls(true);
    out->set_tls_handshake_done(r.tls->handshake_done);
    out->set_tls_version(r.tls->version);
    out->set_tls_cipher(r.tls->cipher);
    out->set_tls_sni(r.tls->sni);
    out->set_tls_peer_subject(r.tls->peer_subject);
    out->set_tls_alpn(r.tls->alpn);
    out->set_tls_ktls(r.tls->ktls);
  }
  if (r.rate_limit_bytes_per_second) {
    out->mutable_rate_limit()->set_bytes_per_second(*r.rate_limit_bytes_per_second);
    out->mutable_rate_limit()->set_burst(r.rate_limit_burst);
  }
  out->set_rate_limit_total(r.rate_limit_total);
  out->set_throttled(r.throttled);
  out->set_throttled_ms(std::chrono::duration_cast<std::chrono::milliseconds>(r.throttled_time).count());
  out->set_bytes_delayed(r.bytes_delayed);
  if (!r.details) return;
  const ConnectionDetails& d = *r.details;
  out->set_fd(d.fd);
  out->set_read_low_watermark(d.read_low_watermark);
  out->set_read_high_watermark(d.read_high_watermark);
  out->set_write_low_watermark(d.write_low_watermark);
  auto* t = out->mutable_tcp_info();
  t->set_valid(d.tcp.valid);
  t->set_state(d.tcp.state);
  t->set_rtt_us(d.tcp.rtt_us);
  t->set_rttvar_us(d.tcp.rttvar_us);
  t->set_retransmits(d.tcp.retransmits);
  t->set_total_retrans(d.tcp.total_retrans);
  t->set_snd_cwnd(d.tcp.snd_cwnd);
  t->set_snd_mss(d.tcp.snd_mss);
  t->set_unacked(d.tcp.unacked);
  for (const auto& e : d.events) to_proto(e, r.loop, out->add_events());
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
      raw.state = ConnectionState::kOpen;
      break;
    case v1::CONNECTION_STATE_READ_PAUSED:
      raw.state = ConnectionState::kReadPaused;
      break;
    case v1::CONNECTION_STATE_CLOSING:
      raw.state = ConnectionState::kClosing;
      break;
    case v1::CONNECTION_STATE_DRAINING:
      raw.state = ConnectionState::kDraining;
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
