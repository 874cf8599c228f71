// post(): the cross-thread door. Ordered, batched, and the eventfd is written only when the
// queue goes from empty to non-empty. Run under TSan with several posting threads.
#include <atomic>
#include <thread>
#include <vector>

#include "reactor_test_util.h"
#include "reactor/sanitizer_build.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class Post : public ReactorTest {};

TEST_P(Post, RunsOnTheLoopThreadInOrder) {
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) base_.post([&order, i] { order.push_back(i); });
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kExited);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_P(Post, EventfdIsWrittenOnlyWhenTheQueueWasEmpty) {
  LoopStats before = base_.stats();
  for (int i = 0; i < 10; ++i) base_.post([] {});
  LoopStats mid = base_.stats();
  EXPECT_EQ(mid.posts - before.posts, 10u);
  EXPECT_EQ(mid.wakeup_writes - before.wakeup_writes, 1u);
  base_.loop(kLoopOnce);
  base_.post([] {});
  EXPECT_EQ(base_.stats().wakeup_writes - before.wakeup_writes, 2u);  // empty again
  base_.loop(kLoopOnce);
}

TEST_P(Post, PostedFromAPostedFunctionRunsInTheNextBatch) {
  int stage = 0;
  base_.post([&] {
    stage = 1;
    base_.post([&] { stage = 2; });
  });
  base_.loop(kLoopOnce);
  EXPECT_EQ(stage, 1);
  base_.loop(kLoopOnce);
  EXPECT_EQ(stage, 2);
}

TEST_P(Post, ManyThreadsPostWhileTheLoopRuns) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::atomic<int> started{0};
  int ran = 0;  // loop thread only
  std::vector<int> last_seen(kThreads, -1);
  bool in_order = true;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      started.fetch_add(1);
      for (int i = 0; i < kPerThread; ++i) {
        base_.post([&, t, i] {
          EXPECT_TRUE(base_.in_loop_thread());
          if (last_seen[t] + 1 != i) in_order = false;
          last_seen[t] = i;
          ++ran;
        });
      }
    });
  }
  const int total = kThreads * kPerThread;
  // Keeps the loop blocking in the backend while the threads post (nothing else is live).
  auto keep = Event::timer(base_, [](int, EventFlags) {});
  keep->add(Duration(1h));
  // Bounded: at most `total` passes, and a 10 s guard.
  EXPECT_TRUE(run_until(
      base_, [&] { return ran == total; }, 10s, total + 10));
  for (auto& th : threads) th.join();
  keep->del();
  base_.loop(kLoopNonblock);
  EXPECT_EQ(ran, total);
  EXPECT_TRUE(in_order) << "each thread's functions must run in the order it posted them";
  EXPECT_LE(base_.stats().wakeup_writes, static_cast<std::uint64_t>(total));
}

TEST_P(Post, UnrunFunctionsAreDestroyedWithTheBase) {
  struct Flag {
    bool* destroyed;
    ~Flag() { *destroyed = true; }
  };
  bool ran = false, destroyed = false;
  {
    EventBase other(EventBaseConfig{GetParam(), 1});
    auto flag = std::make_shared<Flag>(Flag{&destroyed});
    other.post([flag, &ran] { ran = true; });
    flag.reset();
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(destroyed);
}

TEST_P(Post, LoopThreadIsTheOneThatLastEnteredLoop) {
  EXPECT_TRUE(base_.in_loop_thread());
  bool worker_in_loop_thread = false;
  std::atomic<bool> main_in_loop_thread{true};
  std::thread worker([&] {
    base_.post([&] {
      worker_in_loop_thread = base_.in_loop_thread();
      std::thread([&] { main_in_loop_thread = base_.in_loop_thread(); }).join();
    });
    base_.loop(kLoopOnce);
  });
  worker.join();
  EXPECT_TRUE(worker_in_loop_thread);
  EXPECT_FALSE(main_in_loop_thread.load());
  EXPECT_FALSE(base_.in_loop_thread());  // the worker entered loop() last
  base_.post([] {});
  base_.loop(kLoopOnce);  // main takes it back (and the fixture's checks run here)
  EXPECT_TRUE(base_.in_loop_thread());
}

#if !defined(NDEBUG) && !REACTOR_TSAN_BUILD
TEST_P(Post, DebugBuildsAbortOnOffThreadUse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(std::thread([this] { (void)base_.counts(); }).join(), "off its loop thread");
}
#endif

REACTORD_BACKEND_SUITE(Post);

}  // namespace
}  // namespace reactord::test_support
