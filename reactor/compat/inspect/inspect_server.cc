// libreactor_event_inspect.so: reactord.v1.Inspect (ListEvents, GetLoopStats) for the base of a
// libevent program on libreactor_event. One gRPC server per served base; its threads reach the
// base only through EventBase::post() (the thread rule), waiting at most one second for the
// loop to answer.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "reactor/event_base.h"
#include "reactor/inspection.h"
#include "reactor_event_inspect.h"
#include "reactor_event_private.h"
#include "convert/event_proto.h"
#include "reactord/v1/reactord.grpc.pb.h"

namespace reactor_event {
namespace {

namespace v1 = reactord::v1;
constexpr auto kLoopDeadline = std::chrono::seconds(1);

// What the loop copies out for one RPC.
struct LoopView {
  std::vector<reactor::EventInfo> events;
  reactor::EventCounts counts;
  reactor::LoopStats stats;
};

class InspectService final : public v1::Inspect::Service {
 public:
  explicit InspectService(reactor::EventBase& base) : base_(base) {}

  grpc::Status ListEvents(grpc::ServerContext*, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* out) override {
    if (request->has_loop() && request->loop() != 0) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "loop " + std::to_string(request->loop()) + " does not exist (a libevent base is loop 0)"};
    }
    if (!v1::EventState_IsValid(request->state()) || !v1::EventKind_IsValid(request->kind())) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "unknown event state or kind"};
    }
    LoopView view;
    if (auto s = ask_loop(&view, /*with_events=*/true); !s.ok()) return s;
    reactord::add_counts(view.counts, out->mutable_counts());
    for (const auto& e : view.events) {
      if (request->state() != v1::EVENT_STATE_UNSPECIFIED && reactord::to_proto(e.state) != request->state())
        continue;
      if (request->kind() != v1::EVENT_KIND_UNSPECIFIED && reactord::to_proto(e.kind) != request->kind())
        continue;
      if (request->has_fd() && e.fd != request->fd()) continue;
      if (request->has_owner() && e.owner != request->owner()) continue;
      reactord::to_proto(e, /*loop=*/0, out->add_events());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetLoopStats(grpc::ServerContext*, const v1::GetLoopStatsRequest* request,
                            v1::GetLoopStatsResponse* out) override {
    if (request->has_loop() && request->loop() != 0) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "loop " + std::to_string(request->loop()) + " does not exist (a libevent base is loop 0)"};
    }
    LoopView view;
    if (auto s = ask_loop(&view, /*with_events=*/false); !s.ok()) return s;
    reactord::to_proto(view.stats, view.counts, /*loop=*/0, out->add_loops());
    return grpc::Status::OK;
  }

 private:
  // Copies the base's state on its loop thread (post), waiting at most kLoopDeadline.
  grpc::Status ask_loop(LoopView* out, bool with_events) {
    auto promise = std::make_shared<std::promise<LoopView>>();
    auto future = promise->get_future();
    reactor::EventBase* base = &base_;
    base_.post([promise, base, with_events] {
      LoopView v;
      if (with_events) v.events = base->snapshot();
      v.counts = base->counts();
      v.stats = base->stats();
      promise->set_value(std::move(v));
    });
    if (future.wait_for(kLoopDeadline) != std::future_status::ready) {
      return {grpc::StatusCode::UNAVAILABLE,
              "the event loop did not answer within 1s (is event_base_dispatch running?)"};
    }
    try {
      *out = future.get();
    } catch (const std::future_error&) {  // the base went away with the request queued
      return {grpc::StatusCode::UNAVAILABLE, "the event base was freed"};
    }
    return grpc::Status::OK;
  }

  reactor::EventBase& base_;
};

struct Served {
  std::unique_ptr<InspectService> service;
  std::unique_ptr<grpc::Server> server;
};

std::mutex g_mu;
std::unordered_map<struct event_base*, std::unique_ptr<Served>> g_served;
std::atomic<int> g_base_number{0};

void stop_serving(void* arg) {
  auto* base = static_cast<struct event_base*>(arg);
  std::unique_ptr<Served> served;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_served.find(base);
    if (it == g_served.end()) return;
    served = std::move(it->second);
    g_served.erase(it);
  }
  // Handlers waiting on this base give up within kLoopDeadline; do not wait longer.
  served->server->Shutdown(std::chrono::system_clock::now() + kLoopDeadline);
  served->server->Wait();
}

int serve(struct event_base* base, const std::string& address) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_served.count(base) != 0) {
      std::fprintf(stderr, "reactor_event: this base is already served\n");
      return -1;
    }
  }
  auto served = std::make_unique<Served>();
  served->service = std::make_unique<InspectService>(reactor_base(base));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(served->service.get());
  served->server = builder.BuildAndStart();
  if (!served->server || port == 0) {
    std::fprintf(stderr, "reactor_event: cannot serve inspection on %s\n", address.c_str());
    return -1;
  }
  const int number = ++g_base_number;
  std::string host = address.substr(0, address.rfind(':'));
  std::fprintf(stderr, "reactor_event: inspection of base %d on %s:%d\n", number, host.c_str(), port);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_served[base] = std::move(served);
  }
  on_base_free(base, &stop_serving, base);
  return port;
}

// REACTOR_EVENT_INSPECT=<address>: serve every base the program creates.
void serve_from_environment(struct event_base* base) {
  const char* address = std::getenv("REACTOR_EVENT_INSPECT");
  if (address != nullptr && *address != '\0') serve(base, address);
}

__attribute__((constructor)) void install_hook() { set_base_created_hook(&serve_from_environment); }
__attribute__((destructor)) void remove_hook() { set_base_created_hook(nullptr); }

}  // namespace
}  // namespace reactor_event

extern "C" int reactor_event_serve_inspection(struct event_base* base, const char* address) {
  if (base == nullptr || address == nullptr) return -1;
  return reactor_event::serve(base, address);
}
