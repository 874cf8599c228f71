#include "server/metrics/server_collector.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <future>
#include <optional>
#include <string>

#include "reactor/inspection.h"
#include "server/metrics/duration_histogram.h"
#include "server/metrics/family_builder.h"
#include "server/server.h"

namespace reactord::metrics {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

// What a loop copies out for a scrape, on its own thread.
struct LoopView {
  reactor::EventCounts counts;
  reactor::LoopStats stats;
  std::size_t buffered_out = 0;
  bool accepting = false;
  LoopRateLimits::Totals rate_limits;
};

// Reject reasons as the metric names them (stable, short).
const char* reject_label(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMaxConnections:
      return "limit";
    case RejectReason::kDraining:
      return "draining";
    case RejectReason::kSetupError:
      return "error";
    case RejectReason::kFdReserve:
      return "fd_reserve";
  }
  return "error";
}

std::string errno_label(std::size_t slot) {
  if (slot == 0) return "other";  // errno values the server does not count one by one
  const char* name = strerrorname_np(static_cast<int>(slot));
  return name ? name : "E" + std::to_string(slot);
}

// Accept errors always shown (at 0 too), so alerts on them have a series from the start.
constexpr int kCommonAcceptErrors[] = {EMFILE, ENFILE, ENOBUFS, ENOMEM};

double seconds(reactor::Duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<std::optional<LoopView>> gather_loops(Server& server, std::chrono::milliseconds deadline_after,
                                                  std::atomic<std::uint64_t>& timeouts) {
  const std::size_t n = server.loop_count();
  std::vector<std::future<LoopView>> futures;
  futures.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    LoopWorker& loop = server.loop(i);
    if (loop.ended()) {
      // After exit_loop the posted function would never run: do not wait for it. (A loop
      // that has not started yet still runs it once it starts.)
      futures.emplace_back();
      continue;
    }
    auto promise = std::make_shared<std::promise<LoopView>>();
    futures.push_back(promise->get_future());
    // A loop that has ended drops the function without running it: the future then reports
    // broken_promise instead of making us wait.
    loop.post([promise, &loop] {
      LoopView view;
      view.counts = loop.base().counts();
      view.stats = loop.base().stats();
      view.buffered_out = loop.registry().buffered_out();
      view.rate_limits = loop.rate_limits().totals(loop.registry());
      view.accepting = loop.listener() != nullptr && loop.listener()->enabled();
      promise->set_value(std::move(view));
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + deadline_after;
  std::vector<std::optional<LoopView>> views(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!futures[i].valid()) continue;
    // Wait in slices: a loop that ends meanwhile (exit_loop racing the scrape) will never
    // answer, and that is not a stuck loop.
    bool ended = false, late = false;
    while (futures[i].wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
      if (server.loop(i).ended()) {
        ended = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        late = true;
        break;
      }
    }
    if (ended) continue;
    if (late) {
      timeouts.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    try {
      views[i] = futures[i].get();
    } catch (const std::future_error&) {
      // The loop has ended (exit_loop): nothing to report for it.
    }
  }
  return views;
}

// The loops' relaxed counters, added up (read directly: no loop is asked).
struct CounterTotals {
  std::uint64_t accepted = 0, bytes_in = 0, bytes_out = 0, pauses = 0;
  std::array<std::uint64_t, kRejectReasonCount> rejected{};
  std::array<std::uint64_t, kCloseReasonCount> closed{};
  std::array<std::uint64_t, LoopCounters::kErrnoSlots> accept_errors{};
};

CounterTotals add_up_counters(Server& server) {
  CounterTotals t;
  for (std::size_t i = 0; i < server.loop_count(); ++i) {
    const LoopCounters& c = server.loop(i).counters();
    t.accepted += c.accepted.get();
    t.bytes_in += c.bytes_in.get();
    t.bytes_out += c.bytes_out.get();
    t.pauses += c.backpressure_pauses.get();
    for (std::size_t r = 0; r < kRejectReasonCount; ++r) t.rejected[r] += c.rejected[r].get();
    for (std::size_t r = 0; r < kCloseReasonCount; ++r) t.closed[r] += c.closed[r].get();
    for (std::size_t e = 0; e < t.accept_errors.size(); ++e) t.accept_errors[e] += c.accept_errors[e].get();
  }
  return t;
}

// What the loops that answered said, added up; `answered` is false if none did (the families
// built from it are then left out rather than shown as 0).
struct ViewTotals {
  bool answered = false;
  bool accepting = false;
  std::size_t buffered_out = 0;
  std::uint64_t delayed = 0, throttled_now = 0;
  reactor::Duration throttled{};
};

ViewTotals add_up_views(const std::vector<std::optional<LoopView>>& views) {
  ViewTotals t;
  for (const auto& view : views) {
    if (!view) continue;
    t.answered = true;
    t.buffered_out += view->buffered_out;
    t.accepting = t.accepting || view->accepting;
    t.delayed += view->rate_limits.bytes_delayed;
    t.throttled += view->rate_limits.throttled;
    t.throttled_now += view->rate_limits.throttled_connections;
  }
  return t;
}

void add_connection_families(Families& out, Server& server, const CounterTotals& t,
                             const ConnectionDurationObserver* durations) {
  push_gauge(out, "reactord_connections_active", "Client connections open now.",
             static_cast<double>(server.open_connections()));
  push_counter(out, "reactord_connections_accepted_total", "Client connections accepted and set up.",
               static_cast<double>(t.accepted));

  LabelledValues rejected;
  for (std::size_t r = 0; r < kRejectReasonCount; ++r) {
    rejected.emplace_back(reject_label(static_cast<RejectReason>(r)), static_cast<double>(t.rejected[r]));
  }
  push_counters(out, "reactord_connections_rejected_total",
                "Client connections closed at accept: limit (--max-connections), draining, error (setup "
                "failed).",
                "reason", rejected);

  LabelledValues closed;
  for (std::size_t r = 0; r < kCloseReasonCount; ++r) {
    closed.emplace_back(to_string(static_cast<CloseReason>(r)), static_cast<double>(t.closed[r]));
  }
  push_counters(out, "reactord_connections_closed_total", "Client connections closed, by reason.", "reason",
                closed);

  if (durations != nullptr) {
    push_histogram(out, "reactord_connection_duration_seconds",
                   "How long closed client connections stayed, in seconds.", durations->histogram());
  }
}

// Bytes in and out, what waits to go out, and what held it back (rate limits, backpressure).
void add_byte_families(Families& out, const CounterTotals& t, const ViewTotals& v) {
  push_counter(out, "reactord_received_bytes_total", "Bytes read from clients.",
               static_cast<double>(t.bytes_in));
  push_counter(out, "reactord_sent_bytes_total", "Bytes written to clients.",
               static_cast<double>(t.bytes_out));

  if (v.answered) {
    push_gauge(out, "reactord_output_buffered_bytes", "Bytes queued for clients and not yet sent.",
               static_cast<double>(v.buffered_out));

    // Rate limits (--rate-limit-*, SetRateLimit).
    push_counter(out, "reactord_rate_limit_delayed_bytes_total",
                 "Bytes whose transfer waited for rate-limit tokens (read or sent after "
                 "a throttled stretch).",
                 static_cast<double>(v.delayed));
    push_counter(out, "reactord_rate_limit_throttled_seconds_total",
                 "Time client connections spent held back by a rate limit (summed over "
                 "connections).",
                 seconds(v.throttled));
    push_gauge(out, "reactord_rate_limit_throttled_connections",
               "Client connections held back by a rate limit right now.",
               static_cast<double>(v.throttled_now));
  }

  push_counter(out, "reactord_backpressure_pauses_total",
               "Times reading from a client was paused because its output reached --max-output-buffer.",
               static_cast<double>(t.pauses));
}

// --tls-listen's handshakes: results and the duration histogram (only with a TLS listener).
void add_tls_families(Families& out, Server& server) {
  if (!server.tls_listen_address()) return;
  std::array<std::uint64_t, kTlsHandshakeResultCount> handshakes{};
  std::array<std::uint64_t, kTlsHandshakeBucketsUs.size() + 1> buckets{};
  std::uint64_t sum_us = 0;
  for (std::size_t i = 0; i < server.loop_count(); ++i) {
    const LoopCounters& c = server.loop(i).counters();
    for (std::size_t r = 0; r < handshakes.size(); ++r) handshakes[r] += c.tls_handshakes[r].get();
    for (std::size_t b = 0; b < buckets.size(); ++b) buckets[b] += c.tls_handshake_buckets[b].get();
    sum_us += c.tls_handshake_us_sum.get();
  }
  LabelledValues results;
  for (std::size_t r = 0; r < handshakes.size(); ++r) {
    results.emplace_back(to_string(static_cast<TlsHandshakeResult>(r)), static_cast<double>(handshakes[r]));
  }
  push_counters(
      out, "reactord_tls_handshakes_total",
      "TLS handshakes on --tls-listen by result: ok, failed (TLS error: wrong CA, plaintext, version), "
      "timeout (--tls-handshake-timeout), closed (the client left first).",
      "result", results);
  push_histogram(
      out, "reactord_tls_handshake_duration_seconds",
      "Time from accept to the end of a successful TLS handshake, in seconds.",
      cumulative_histogram(
          buckets, [](std::size_t b) { return static_cast<double>(kTlsHandshakeBucketsUs[b]) / 1e6; },
          static_cast<double>(sum_us) / 1e6));
}

// Whether new clients are taken: the listeners (as the loops saw them) and the drain.
void add_listener_families(Families& out, Server& server, const ViewTotals& v) {
  if (v.answered) {
    push_gauge(out, "reactord_accepting", "1 while a listener accepts new clients, else 0.",
               v.accepting ? 1 : 0);
  }
  push_gauge(out, "reactord_draining", "1 while the server drains, else 0.",
             server.state() == ServerState::kDraining ? 1 : 0);
}

// Reloads (SIGHUP, Control.Reload).
void add_reload_families(Families& out, Server& server) {
  const ReloadStats reloads = server.reload_stats();
  push_counters(out, "reactord_reloads_total",
                "Reloads (SIGHUP, Control.Reload) by result: ok (everything applied) or failed (some "
                "item kept its old value: a bad new file).",
                "result",
                {{"ok", static_cast<double>(reloads.ok)}, {"failed", static_cast<double>(reloads.failed)}});
  push_gauge(out, "reactord_last_reload_timestamp_seconds", "Unix time of the last reload (0: never).",
             static_cast<double>(reloads.last_unix_ms) / 1000.0);
  push_gauge(out, "reactord_last_reload_successful",
             "1 if the last reload applied everything (or none happened yet), else 0.",
             reloads.last_ok ? 1 : 0);
}

void add_accept_error_family(Families& out, const CounterTotals& t) {
  LabelledValues errors;
  for (std::size_t e = 0; e < t.accept_errors.size(); ++e) {
    bool common = false;
    for (int c : kCommonAcceptErrors) common = common || static_cast<std::size_t>(c) == e;
    if (t.accept_errors[e] == 0 && !common) continue;
    errors.emplace_back(errno_label(e), static_cast<double>(t.accept_errors[e]));
  }
  push_counters(out, "reactord_accept_errors_total",
                "accept() failures by errno (\"other\": an errno not tracked).", "errno", errors);
}

// The reactor of each loop, labelled loop="i": events by state, iterations, callbacks, posts,
// wakeups and the timing histograms (from the loops that answered; running from every loop).
void add_loop_families(Families& out, Server& server, const std::vector<std::optional<LoopView>>& views) {
  auto events = make_family("reactord_reactor_events",
                            "Events on a loop by state (initialized, pending, active); internal "
                            "events included.",
                            MetricType::Gauge);
  auto iterations =
      make_family("reactord_reactor_loop_iterations_total", "Passes of the event loop.", MetricType::Counter);
  auto callbacks =
      make_family("reactord_reactor_callbacks_total", "Event callbacks run.", MetricType::Counter);
  auto posts = make_family("reactord_reactor_posts_total",
                           "Functions handed to the loop from other threads (post()), scrapes "
                           "included.",
                           MetricType::Counter);
  auto wakeups = make_family("reactord_reactor_wakeups_total",
                             "Eventfd writes that woke the loop for post() (only when its queue "
                             "was empty).",
                             MetricType::Counter);
  auto poll_wait =
      make_family("reactord_reactor_poll_wait_seconds",
                  "Time blocked in epoll_wait/poll per iteration, in seconds.", MetricType::Histogram);
  auto callback_duration =
      make_family("reactord_reactor_callback_duration_seconds",
                  "Time spent in each event callback, in seconds.", MetricType::Histogram);
  auto longest = make_family("reactord_reactor_longest_callback_seconds",
                             "The longest event callback so far, in seconds.", MetricType::Gauge);
  auto running = make_family("reactord_reactor_running", "1 while the loop runs, 0 once it has exited.",
                             MetricType::Gauge);
  for (std::size_t i = 0; i < server.loop_count(); ++i) {
    const std::string loop = std::to_string(i);
    add_gauge(running, server.loop(i).running() ? 1 : 0, {{"loop", loop}});
    if (!views[i]) continue;
    const LoopView& v = *views[i];
    add_gauge(events, static_cast<double>(v.counts.initialized), {{"loop", loop}, {"state", "initialized"}});
    add_gauge(events, static_cast<double>(v.counts.pending), {{"loop", loop}, {"state", "pending"}});
    add_gauge(events, static_cast<double>(v.counts.active), {{"loop", loop}, {"state", "active"}});
    add_counter(iterations, static_cast<double>(v.stats.iterations), {{"loop", loop}});
    add_counter(callbacks, static_cast<double>(v.stats.callbacks), {{"loop", loop}});
    add_counter(posts, static_cast<double>(v.stats.posts), {{"loop", loop}});
    add_counter(wakeups, static_cast<double>(v.stats.wakeup_writes), {{"loop", loop}});
    add_histogram(poll_wait, to_prometheus(v.stats.poll_wait_histogram), {{"loop", loop}});
    add_histogram(callback_duration, to_prometheus(v.stats.callback_histogram), {{"loop", loop}});
    add_gauge(longest, seconds(v.stats.longest_callback), {{"loop", loop}});
  }
  for (auto* family : {&events, &iterations, &callbacks, &posts, &wakeups, &poll_wait, &callback_duration,
                       &longest, &running}) {
    if (!family->metric.empty()) out.push_back(std::move(*family));
  }
}

}  // namespace

ServerCollector::ServerCollector(Server& server, std::shared_ptr<const ConnectionDurationObserver> durations,
                                 std::chrono::milliseconds loop_deadline)
    : server_(server), durations_(std::move(durations)), loop_deadline_(loop_deadline) {}

std::vector<MetricFamily> ServerCollector::Collect() const {
  // Ask the loops first: they answer while we add up the counters.
  const std::vector<std::optional<LoopView>> views = gather_loops(server_, loop_deadline_, loop_timeouts_);
  const CounterTotals counters = add_up_counters(server_);
  const ViewTotals answered = add_up_views(views);

  Families out;
  add_connection_families(out, server_, counters, durations_.get());
  add_byte_families(out, counters, answered);
  add_tls_families(out, server_);
  add_listener_families(out, server_, answered);
  add_reload_families(out, server_);
  add_accept_error_family(out, counters);
  add_loop_families(out, server_, views);

  push_counter(out, "reactord_metrics_loop_timeouts_total",
               "Scrapes in which a loop did not answer in time (its reactor "
               "metrics were left out).",
               static_cast<double>(loop_timeouts_.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace reactord::metrics
