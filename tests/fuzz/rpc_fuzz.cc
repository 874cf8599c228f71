// Fuzz target: every Inspect and Control RPC handler fed fuzzed request messages, in process,
// against a real reactord (rpc_harness.h: two loops, live connections). The first byte picks
// the method, the rest is parsed as its request message (bytes that are not one are skipped:
// the transport would refuse them before any handler). Any status is fine; a crash, a
// sanitizer report, a leak or a hang (a call that reaches its 10 s deadline) is not.
//
// Three values are bounded before the call so that one input takes milliseconds: graceful
// close and drain deadlines and ExitLoop's delay (at most 100 ms; a longer one only waits
// longer). A call that ends loops is followed until they have ended, and the server is
// replaced within the same input (RpcHarness::settle).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_support.h"
#include "rpc_harness.h"

namespace reactord::fuzz {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<grpc::ClientContext> context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + 10s);
  return ctx;
}

void print(const grpc::Status& status) {
  std::fprintf(stderr, "rpc: status %d: %s\n", static_cast<int>(status.error_code()),
               status.error_message().c_str());
}

// Not a hang: the handler answered before the deadline.
void check_answered(const grpc::Status& status) {
  if (status.error_code() == grpc::DEADLINE_EXCEEDED) print(status);
  FUZZ_CHECK(status.error_code() != grpc::DEADLINE_EXCEEDED);
}

template <typename Request>
bool parse(std::string_view bytes, Request& request) {
  return request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

std::int64_t bounded_ms(std::int64_t ms) { return std::min<std::int64_t>(ms, 100); }

RpcHarness& harness() {
  // Never destroyed by static destruction (gRPC's own statics may be gone by then): the
  // atexit handler stops it while everything is alive.
  static RpcHarness* h = [] {
    auto* created = new RpcHarness();
    std::atexit([] { delete &harness(); });
    return created;
  }();
  return *h;
}

void call(RpcHarness& h, std::uint8_t method, std::string_view bytes) {
  switch (method % 11) {
    case 0: {
      v1::GetServerInfoRequest req;
      v1::ServerInfo resp;
      if (!parse(bytes, req)) return;
      auto status = h.inspect().GetServerInfo(context().get(), req, &resp);
      check_answered(status);
      // Always answered while serving (a loop that an earlier ExitLoop's delay ended since
      // is a reason to fail: the harness restarts the server for the next input).
      if (!status.ok()) print(status);
      FUZZ_CHECK(status.ok() || !h.healthy());
      break;
    }
    case 1: {
      v1::ListConnectionsRequest req;
      v1::ListConnectionsResponse resp;
      if (!parse(bytes, req)) return;
      auto status = h.inspect().ListConnections(context().get(), req, &resp);
      check_answered(status);
      if (status.ok()) {
        FUZZ_CHECK(resp.connections_size() <= 1000);
        for (int i = 1; i < resp.connections_size(); ++i) {
          FUZZ_CHECK(resp.connections(i - 1).id() < resp.connections(i).id());  // ordered by id
        }
      }
      break;
    }
    case 2: {
      v1::GetConnectionRequest req;
      v1::Connection resp;
      if (!parse(bytes, req)) return;
      check_answered(h.inspect().GetConnection(context().get(), req, &resp));
      break;
    }
    case 3: {
      v1::ListEventsRequest req;
      v1::ListEventsResponse resp;
      if (!parse(bytes, req)) return;
      check_answered(h.inspect().ListEvents(context().get(), req, &resp));
      break;
    }
    case 4: {
      v1::GetLoopStatsRequest req;
      v1::GetLoopStatsResponse resp;
      if (!parse(bytes, req)) return;
      check_answered(h.inspect().GetLoopStats(context().get(), req, &resp));
      break;
    }
    case 5: {
      // A stream: read the initial listing up to its SYNCED marker (or the end), then cancel.
      v1::WatchConnectionsRequest req;
      if (!parse(bytes, req)) return;
      auto ctx = context();
      auto reader = h.inspect().WatchConnections(ctx.get(), req);
      v1::ConnectionEvent event;
      bool synced = false;
      for (int i = 0; i < 256 && !synced && reader->Read(&event); ++i) {
        synced = event.kind() == v1::ConnectionEvent::KIND_SYNCED;
      }
      ctx->TryCancel();
      auto status = reader->Finish();
      if (!synced) check_answered(status);
      break;
    }
    case 6: {
      v1::CloseConnectionsRequest req;
      v1::CloseConnectionsResponse resp;
      if (!parse(bytes, req)) return;
      req.set_deadline_ms(bounded_ms(req.deadline_ms()));
      check_answered(h.control().CloseConnections(context().get(), req, &resp));
      break;
    }
    case 7: {
      v1::DrainRequest req;
      v1::DrainResponse resp;
      if (!parse(bytes, req)) return;
      req.set_deadline_ms(bounded_ms(req.deadline_ms()));
      if (req.has_close_idle_after_ms()) req.set_close_idle_after_ms(bounded_ms(req.close_idle_after_ms()));
      check_answered(h.control().Drain(context().get(), req, &resp));
      break;
    }
    case 8: {
      v1::ResumeRequest req;
      v1::ResumeResponse resp;
      if (!parse(bytes, req)) return;
      check_answered(h.control().Resume(context().get(), req, &resp));
      break;
    }
    case 9: {
      v1::ExitLoopRequest req;
      v1::LoopActionResponse resp;
      if (!parse(bytes, req)) return;
      req.set_delay_ms(bounded_ms(req.delay_ms()));
      auto status = h.control().ExitLoop(context().get(), req, &resp);
      check_answered(status);
      if (status.ok()) FUZZ_CHECK(h.await_ended(resp.loops()));  // every loop it reached ends
      break;
    }
    default: {
      v1::BreakLoopRequest req;
      v1::LoopActionResponse resp;
      if (!parse(bytes, req)) return;
      auto status = h.control().BreakLoop(context().get(), req, &resp);
      check_answered(status);
      if (status.ok()) FUZZ_CHECK(h.await_ended(resp.loops()));
      break;
    }
  }
}

}  // namespace
}  // namespace reactord::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& h = reactord::fuzz::harness();
  h.ready();
  reactord::fuzz::call(h, data[0], std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  h.settle();
  return 0;
}
