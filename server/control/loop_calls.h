// call_loops: the one way a gRPC handler reaches the event loops. fn runs on each selected
// loop's thread (LoopWorker::post) and its result comes back through a promise the posted
// lambda owns (shared_ptr), so a handler that gives up at its deadline leaves nothing dangling.
// Loops that have ended are skipped: their connections are gone with them. A loop that has
// not started yet runs fn when it starts.
// Any thread (a gRPC handler thread).
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "server/server.h"

namespace reactord::control {

using WallDeadline = std::chrono::system_clock::time_point;

enum class LoopCallError { kNone, kTimeout };

template <typename T>
struct LoopResults {
  std::vector<std::pair<unsigned, T>> values;  // (loop index, result), by loop index
  LoopCallError error = LoopCallError::kNone;
  bool ok() const { return error == LoopCallError::kNone; }
};

template <typename T>
struct PendingLoopCall {
  unsigned loop;
  std::future<T> future;
};

// Waits for every pending result until `deadline` (see call_loops). Any thread.
template <typename T>
LoopResults<T> collect_loop_results(Server& server, std::vector<PendingLoopCall<T>>& pending,
                                    WallDeadline deadline) {
  LoopResults<T> results;
  for (auto& p : pending) {
    // Wait in slices so that a loop ending after the post (its lambda will never run) is
    // noticed instead of costing the whole deadline.
    for (;;) {
      auto slice = std::min(deadline, std::chrono::system_clock::now() + std::chrono::milliseconds(50));
      if (p.future.wait_until(slice) == std::future_status::ready) {
        try {
          results.values.emplace_back(p.loop, p.future.get());
        } catch (const std::future_error&) {
          // broken promise: the loop shut down before running fn; skip it.
        }
        break;
      }
      if (std::chrono::system_clock::now() >= deadline) {
        results.error = LoopCallError::kTimeout;
        return results;
      }
      if (server.loop(p.loop).ended()) break;  // its lambda will not run
    }
  }
  return results;
}

// Posts make_task(promise, worker) to every running loop (or only to `only`) and waits until
// `deadline` for each task to fulfil its promise: the part every call_loops variant shares.
// Any thread.
template <typename T, typename MakeTask>
LoopResults<T> post_to_loops(Server& server, std::optional<unsigned> only, MakeTask make_task,
                             WallDeadline deadline) {
  std::vector<PendingLoopCall<T>> pending;
  for (unsigned i = 0; i < server.loop_count(); ++i) {
    if (only && *only != i) continue;
    LoopWorker& worker = server.loop(i);
    if (worker.ended()) continue;
    auto promise = std::make_shared<std::promise<T>>();
    pending.push_back({i, promise->get_future()});
    worker.post(make_task(std::move(promise), worker));
  }
  return collect_loop_results(server, pending, deadline);
}

// Runs fn(LoopWorker&) -> T on every running loop (or only on `only`), waits for all results
// until `deadline`. fn is copied into each posted lambda: capture values, never references to
// the caller's stack.
template <typename T, typename Fn>
LoopResults<T> call_loops(Server& server, std::optional<unsigned> only, Fn fn, WallDeadline deadline) {
  return post_to_loops<T>(
      server, only,
      [&fn](std::shared_ptr<std::promise<T>> promise, LoopWorker& worker) {
        return [promise, fn, &worker]() mutable { promise->set_value(fn(worker)); };
      },
      deadline);
}

// Like call_loops, for work that may be long (a scan over every connection): make_step()
// gives each loop a fresh step, a callable std::optional<T>(LoopWorker&) that does a bounded
// slice of the work and returns the result when done, or nullopt to be called again in a
// later iteration of that loop (it re-posts itself). The loop's I/O callbacks run between
// slices, so an established client's echo never waits behind more than one slice.
// Any thread (a gRPC handler thread).
template <typename T, typename MakeStep>
LoopResults<T> call_loops_sliced(Server& server, std::optional<unsigned> only, MakeStep make_step,
                                 WallDeadline deadline) {
  using Step = decltype(make_step());
  struct Runner {
    std::shared_ptr<std::promise<T>> promise;
    std::shared_ptr<Step> step;
    LoopWorker* worker;
    void operator()() const {
      if (auto value = (*step)(*worker)) {
        promise->set_value(std::move(*value));
      } else {
        worker->post(*this);  // from the loop's own thread: runs in its next iteration
      }
    }
  };
  return post_to_loops<T>(
      server, only,
      [&make_step](std::shared_ptr<std::promise<T>> promise, LoopWorker& worker) {
        return Runner{std::move(promise), std::make_shared<Step>(make_step()), &worker};
      },
      deadline);
}

// Like call_loops, for an answer a loop gives later (when some connections are gone, say):
// fn(LoopWorker&, Reply reply) runs on each selected loop's thread and arranges for reply(T)
// to be called once, on that loop's thread, when the answer is there. Waits for every answer
// until `deadline`; a loop that ends first is skipped, as in call_loops. The handler never
// asks again: it sleeps until the loops answer or the deadline.
// Any thread (a gRPC handler thread).
template <typename T>
using LoopReply = std::function<void(T)>;

template <typename T, typename Fn>
LoopResults<T> call_loops_until(Server& server, std::optional<unsigned> only, Fn fn, WallDeadline deadline) {
  return post_to_loops<T>(
      server, only,
      [&fn](std::shared_ptr<std::promise<T>> promise, LoopWorker& worker) {
        return [promise, fn, &worker]() mutable {
          fn(worker, LoopReply<T>([promise](T value) { promise->set_value(std::move(value)); }));
        };
      },
      deadline);
}

}  // namespace reactord::control
