#include "control_plane.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_posix.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "channelz_service.h"
#include "control_service.h"
#include "grpc_server_limits.h"
#include "guard_peers.h"
#include "inspect_service.h"
#include "control_plane_state.h"
#include "reflection_service.h"
#include "server/bind_check.h"
#include "tls_files.h"
#include "token_reload.h"
#include "tls_reload.h"
#include "watch_budget.h"
#include "server/control/control_interceptor.h"
#include "server/control_plane_counters.h"
#include "server/h2_guard/h2_guard.h"
#include "server/server.h"
#include "server/thread_name.h"

namespace reactord::control {

namespace {

// gRPC's own log (gpr_log) into ours, one line each: its multi-line errors must not reach the
// operator's terminal raw, and its informational chatter belongs under --log-level debug.
void grpc_log_to_spdlog(gpr_log_func_args* args) {
  std::string message = args->message ? args->message : "";
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      spdlog::warn("grpc: {}", message);
      break;
    case GPR_LOG_SEVERITY_INFO:
      spdlog::debug("grpc: {}", message);
      break;
    default:
      spdlog::trace("grpc: {}", message);
      break;
  }
}

const char* const kServiceNames[] = {"", "reactord.v1.Inspect", "reactord.v1.Control"};

}  // namespace

struct ControlPlane::Impl {
  ControlOptions options;
  // Set by prepare(): the checked configuration start() uses.
  std::optional<TokenAuth> auth;
  TlsFiles tls;
  std::unique_ptr<ControlPlaneState> plane;
  std::unique_ptr<InspectService> inspect;
  std::unique_ptr<ControlService> control;
  std::vector<std::unique_ptr<grpc::Service>> reflection;  // v1 and v1alpha
  std::unique_ptr<grpc::Service> channelz;
  // TLS credentials a reload can replace; outlives grpc_server (declared before it).
  std::unique_ptr<ReloadableTls> reloadable_tls;
  std::unique_ptr<grpc::Server> grpc_server;
  // Plaintext: the control port is the guard's, and gRPC gets each connection from it.
  std::unique_ptr<h2guard::H2Guard> guard;
  int port = 0;

  // Health follows the server state: a drain started by SIGTERM must flip it too.
  std::mutex health_mutex;
  std::condition_variable health_wake;
  bool health_stop = false;
  int health_serving = -1;  // last value set; -1 = never
  std::thread health_thread;

  void sync_health() {
    // Serving and some loop accepts (after ExitLoop on every acceptor: NOT_SERVING).
    bool serving = plane->server.accepting() && !plane->stopping.load();
    std::lock_guard lock(health_mutex);  // also guards grpc_server being set / reset
    if (health_serving == static_cast<int>(serving) || !grpc_server) return;
    auto* health = grpc_server->GetHealthCheckService();
    if (!health) return;
    for (const char* name : kServiceNames) health->SetServingStatus(name, serving);
    health_serving = serving;
  }

  void health_loop() {
    std::unique_lock lock(health_mutex);
    while (!health_stop) {
      health_wake.wait_for(lock, std::chrono::milliseconds(100));
      if (health_stop) break;
      lock.unlock();
      sync_health();
      // A watch handler blocked on a client that stopped reading holds a thread: free it.
      plane->cancel_stuck_watchers(std::chrono::seconds(1));
      lock.lock();
    }
  }
};

ControlPlane::ControlPlane(ControlOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ControlPlane::~ControlPlane() {
  if (impl_->grpc_server) stop();
}

void ControlPlane::prepare(const Server& server) {
  (void)server;
  gpr_set_log_function(grpc_log_to_spdlog);
  const ControlOptions& o = impl_->options;
  std::string error;
  std::vector<std::string> warnings;
  auto auth = TokenAuth::load(o.token_file, o.viewer_token_file, &error, &warnings);
  if (!auth) throw ConfigError(error);
  auto tls = load_tls_files({o.tls_cert, o.tls_key, o.tls_client_ca}, &error, &warnings);
  if (!tls) throw ConfigError(error);
  if (!o.listen.is_loopback() && !auth->enabled() && !tls->mtls) {
    throw ConfigError("--control-listen " + o.listen.to_string() +
                      ": refusing a non-loopback control address without authentication "
                      "(give --control-token-file or --control-tls-client-ca)");
  }
  for (const auto& w : warnings) spdlog::warn("{}", w);
  if (auto problem = bind_problem("--control-listen", o.listen)) throw StartError(*problem);
  impl_->auth = std::move(auth);
  impl_->tls = std::move(*tls);
}

void ControlPlane::start(Server& server) {
  if (!impl_->auth) prepare(server);
  const ControlOptions& o = impl_->options;
  const bool tls = impl_->tls.enabled;
  const bool mtls = impl_->tls.mtls;
  if (tls) {
    // The guard terminates TLS with this context; reloadable (tls_reload.h): the files a
    // reload validated replace it while serving.
    try {
      impl_->reloadable_tls = std::make_unique<ReloadableTls>(impl_->tls);
    } catch (const std::exception& e) {
      throw StartError(std::string("--control-tls-cert: ") + e.what());
    }
  }
  std::optional<TokenAuth> auth = std::move(impl_->auth);

  impl_->plane = std::make_unique<ControlPlaneState>(server, std::move(*auth));
  impl_->plane->client_certificates = mtls;
  WatchCounters* watch_counters = nullptr;
  if (o.metrics) watch_counters = &o.metrics->watch;
  impl_->plane->watch_budget = std::make_unique<WatchBudget>(o.watch, watch_counters);
  impl_->plane->control_listen = o.listen;
  // Everything a handler reads is set before the server starts serving.
  impl_->plane->sync_health = [impl = impl_.get()] { impl->sync_health(); };
  impl_->inspect = std::make_unique<InspectService>(*impl_->plane);
  impl_->control = std::make_unique<ControlService>(*impl_->plane);

  // Process-wide switches; they must be set before the builder is created.
  grpc::EnableDefaultHealthCheckService(true);
  impl_->reflection = make_reflection_services(
      {"reactord.v1.Inspect", "reactord.v1.Control", "grpc.health.v1.Health", "grpc.channelz.v1.Channelz"});
  impl_->channelz = make_channelz_service(*impl_->plane);

  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 1);
  // SO_REUSEPORT would let two reactords share the control port silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  apply_limits(builder, o.grpc);
  std::string address = o.listen.to_string();
  // gRPC listens on no port: the guard does (terminating TLS when configured) and hands gRPC
  // each connection's plaintext (after BuildAndStart).
  if (o.metrics) builder.experimental().SetInterceptorCreators(make_control_interceptors(*o.metrics));
  builder.RegisterService(impl_->inspect.get());
  builder.RegisterService(impl_->control.get());
  for (auto& service : impl_->reflection) builder.RegisterService(service.get());
  builder.RegisterService(impl_->channelz.get());
  auto built = builder.BuildAndStart();
  if (!built) throw StartError("--control-listen " + address + ": gRPC could not start");
  {
    H2GuardCounters* counters = nullptr;
    if (o.metrics) counters = &o.metrics->h2guard;
    grpc::Server* grpc_server = built.get();
    impl_->guard = std::make_unique<h2guard::H2Guard>(
        o.guard,
        [grpc_server](h2guard::H2Guard::GrpcEnd fd, const std::string& peer, const std::string& certificate) {
          remember_guarded_peer(fd.get(), peer, certificate);
          grpc::AddInsecureChannelFromFd(grpc_server, fd.release());
        },
        counters,
        tls ? h2guard::H2Guard::TlsContextSource(
                  [reloadable = impl_->reloadable_tls.get()] { return reloadable->context(); })
            : h2guard::H2Guard::TlsContextSource());
    try {
      impl_->guard->start(o.listen);
    } catch (const std::exception& e) {
      impl_->guard.reset();
      built->Shutdown();
      throw StartError("--control-listen " + address + ": cannot listen there: " + e.what());
    }
    impl_->port = impl_->guard->port();
  }
  impl_->plane->control_port.store(static_cast<std::uint16_t>(impl_->port));
  {
    std::lock_guard lock(impl_->health_mutex);
    impl_->grpc_server = std::move(built);
  }
  impl_->sync_health();
  impl_->health_thread = std::thread([impl = impl_.get()] {
    name_this_thread("grpc-health");
    impl->health_loop();
  });
  spdlog::info("control plane listening on {}{}{}", impl_->plane->control_address(),
               tls ? (mtls ? " (mTLS)" : " (TLS)") : "",
               impl_->plane->auth()->enabled() ? ", bearer tokens required" : "");
}

void ControlPlane::stop() {
  if (!impl_->grpc_server) return;
  impl_->plane->stopping.store(true);
  {
    std::lock_guard lock(impl_->health_mutex);
    impl_->health_stop = true;
  }
  impl_->health_wake.notify_all();
  if (impl_->health_thread.joinable()) impl_->health_thread.join();
  impl_->sync_health();
  impl_->plane->wake_watchers();
  // Calls in flight get 2 s to finish, or less when the process must be gone sooner (SIGTERM:
  // --drain-timeout + 1 s); then they are cancelled.
  auto grace = std::chrono::steady_clock::duration(std::chrono::seconds(2));
  if (auto deadline = impl_->plane->server.stop_deadline()) {
    const auto left = *deadline - std::chrono::steady_clock::now() - std::chrono::milliseconds(300);
    grace = std::clamp<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50), grace);
  }
  // No new connections; those open get gRPC's GOAWAY through the guard, then are closed.
  if (impl_->guard) impl_->guard->stop_accepting();
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() +
                               std::chrono::duration_cast<std::chrono::system_clock::duration>(grace));
  if (impl_->guard) impl_->guard->stop();
  impl_->grpc_server->Wait();
  std::lock_guard lock(impl_->health_mutex);
  impl_->grpc_server.reset();
}

// The TLS files again, validated as at start; a key other users can read is refused here (at
// start only a warning).
ReloadItem ControlPlane::reload_tls() {
  const ControlOptions& o = impl_->options;
  ReloadItem item{"control.tls", ReloadItem::Outcome::kUnchanged, o.tls_cert};
  std::string error;
  std::vector<std::string> warnings;
  auto fresh = load_tls_files({o.tls_cert, o.tls_key, o.tls_client_ca}, &error, &warnings);
  if (!fresh) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = error;
    return item;
  }
  if (!warnings.empty()) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = warnings.front();
    return item;
  }
  const TlsFiles& now = impl_->reloadable_tls->current();
  if (fresh->cert_pem == now.cert_pem && fresh->key_pem == now.key_pem &&
      fresh->client_ca_pem == now.client_ca_pem) {
    return item;
  }
  if (!impl_->reloadable_tls->replace(*fresh, &error)) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = error;
    return item;
  }
  item.outcome = ReloadItem::Outcome::kChanged;
  item.detail = "new certificate from " + o.tls_cert + (fresh->mtls ? " (and client CA)" : "") +
                "; new handshakes use it, open connections keep theirs";
  return item;
}

std::vector<ReloadItem> ControlPlane::reload() {
  std::vector<ReloadItem> items;
  if (!impl_->plane) return items;
  const ControlOptions& o = impl_->options;
  TokenReload tokens = reload_tokens(*impl_->plane->auth(), o.token_file, o.viewer_token_file);
  if (tokens.fresh) impl_->plane->set_auth(std::move(*tokens.fresh));
  items = std::move(tokens.items);
  if (impl_->reloadable_tls) items.push_back(reload_tls());
  return items;
}

std::shared_ptr<grpc::Channel> ControlPlane::in_process_channel() const {
  if (!impl_->grpc_server) throw std::logic_error("control plane: in_process_channel() before start()");
  return impl_->grpc_server->InProcessChannel(grpc::ChannelArguments());
}

std::uint16_t ControlPlane::port() const { return static_cast<std::uint16_t>(impl_->port); }

}  // namespace reactord::control
