#include "proto_convert.h"

#include "request_limits.h"

#include "reactor/event_flags.h"

namespace reactord::control {

namespace {
std::int64_t ms_between(reactor::TimePoint from, reactor::TimePoint to) {
  if (to <= from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}
}  // namespace

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

v1::EventState to_proto(reactor::EventState state) {
  switch (state) {
    case reactor::EventState::kInitialized:
      return v1::EVENT_STATE_INITIALIZED;
    case reactor::EventState::kPending:
      return v1::EVENT_STATE_PENDING;
    case reactor::EventState::kActive:
      return v1::EVENT_STATE_ACTIVE;
  }
  return v1::EVENT_STATE_UNSPECIFIED;
}

v1::EventKind to_proto(reactor::EventKind kind) {
  switch (kind) {
    case reactor::EventKind::kIo:
      return v1::EVENT_KIND_IO;
    case reactor::EventKind::kSignal:
      return v1::EVENT_KIND_SIGNAL;
    case reactor::EventKind::kTimer:
      return v1::EVENT_KIND_TIMER;
    case reactor::EventKind::kInternal:
      return v1::EVENT_KIND_INTERNAL;
  }
  return v1::EVENT_KIND_UNSPECIFIED;
}

std::optional<reactor::EventState> from_proto(v1::EventState state) {
  switch (state) {
    case v1::EVENT_STATE_INITIALIZED:
      return reactor::EventState::kInitialized;
    case v1::EVENT_STATE_PENDING:
      return reactor::EventState::kPending;
    case v1::EVENT_STATE_ACTIVE:
      return reactor::EventState::kActive;
    default:
      return std::nullopt;
  }
}

std::optional<reactor::EventKind> from_proto(v1::EventKind kind) {
  switch (kind) {
    case v1::EVENT_KIND_IO:
      return reactor::EventKind::kIo;
    case v1::EVENT_KIND_SIGNAL:
      return reactor::EventKind::kSignal;
    case v1::EVENT_KIND_TIMER:
      return reactor::EventKind::kTimer;
    case v1::EVENT_KIND_INTERNAL:
      return reactor::EventKind::kInternal;
    default:
      return std::nullopt;
  }
}

void to_proto(const ConnectionView& v, reactor::TimePoint now, v1::Connection* out) {
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

void to_proto(const reactor::EventInfo& e, unsigned loop, v1::Event* out) {
  out->set_id(e.id);
  out->set_loop(loop);
  out->set_kind(to_proto(e.kind));
  out->set_fd(e.fd);
  out->set_signal(e.signal);
  out->set_requested(reactor::flags_to_string(e.requested));
  out->set_state(to_proto(e.state));
  if (e.state == reactor::EventState::kActive) out->set_fired(reactor::flags_to_string(e.fired));
  out->set_priority(e.priority);
  if (e.time_left) out->set_time_left_us(e.time_left->count());
  out->set_label(e.label);
  out->set_owner(e.owner);
}

void add_counts(const reactor::EventCounts& c, v1::EventCounts* out) {
  out->set_initialized(out->initialized() + c.initialized);
  out->set_pending(out->pending() + c.pending);
  out->set_active(out->active() + c.active);
  out->set_internal(out->internal() + c.internal);
  for (std::size_t i = 0; i < c.active_per_priority.size(); ++i) {
    if (static_cast<int>(i) >= out->active_per_priority_size()) out->add_active_per_priority(0);
    out->set_active_per_priority(static_cast<int>(i),
                                 out->active_per_priority(static_cast<int>(i)) + c.active_per_priority[i]);
  }
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
