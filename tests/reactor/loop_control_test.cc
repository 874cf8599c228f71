// Loop control: dispatch, loop flags, loopexit / loopbreak / loopcontinue, got_exit /
// got_break, and sticky exit requests.
#include <thread>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class LoopControl : public ReactorTest {};

TEST_P(LoopControl, EmptyBaseReturnsNoEvents) {
  EXPECT_EQ(base_.dispatch(), LoopResult::kNoEvents);
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kNoEvents);
  EXPECT_FALSE(base_.got_exit());
  EXPECT_FALSE(base_.got_break());
}

TEST_P(LoopControl, NonblockDoesOnePassWithoutBlocking) {
  SocketPair sp;
  int calls = 0;
  Event ev(base_, sp.a.get(), kRead | kPersist, [&](int, EventFlags) { ++calls; });
  ev.add();
  auto start = Clock::now();
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(calls, 0);
  WriteByte(sp.b.get());
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_EQ(calls, 1);
  ev.del();
}

TEST_P(LoopControl, OnceBlocksForTheFirstEventsThenReturns) {
  int calls = 0;
  auto t = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  auto later = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  t->add(Duration(10ms));
  later->add(Duration(1h));
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kExited);
  EXPECT_EQ(calls, 1);
  later->del();
}

TEST_P(LoopControl, NoExitOnEmptyKeepsRunningUntilBreak) {
  std::thread poster;
  base_.post([&] {
    // Nothing is registered, yet the loop must stay: break it from another thread.
    poster = std::thread([this] { base_.loopbreak(); });
  });
  EXPECT_EQ(base_.loop(kLoopNoExitOnEmpty), LoopResult::kExited);
  EXPECT_TRUE(base_.got_break());
  poster.join();
}

TEST_P(LoopControl, LoopexitLetsTheCurrentPassFinish) {
  int calls = 0;
  auto a = Event::timer(base_, [&](int, EventFlags) {
    ++calls;
    base_.loopexit();
  });
  auto b = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  auto keep = Event::timer(base_, [](int, EventFlags) {});
  keep->add(Duration(1h));
  a->activate(kTimeout);
  b->activate(kTimeout);
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_EQ(calls, 2);  // b still ran: loopexit waits for the active queue
  EXPECT_TRUE(base_.got_exit());
  EXPECT_FALSE(base_.got_break());
  keep->del();
}

TEST_P(LoopControl, LoopbreakStopsRightAfterTheCurrentCallback) {
  int calls = 0;
  auto a = Event::timer(base_, [&](int, EventFlags) {
    ++calls;
    base_.loopbreak();
  });
  auto b = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  a->activate(kTimeout);
  b->activate(kTimeout);
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(base_.got_break());
  EXPECT_FALSE(base_.got_exit());
  // b is still active and runs in the next loop; got_break resets when loop() starts.
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(base_.got_break());
}

TEST_P(LoopControl, LoopexitWithDelayUsesATimer) {
  auto keep = Event::timer(base_, [](int, EventFlags) {});
  keep->add(Duration(1h));
  base_.loopexit(Duration(20ms));
  auto start = Clock::now();
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_GE(Clock::now() - start, 20ms);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_TRUE(base_.got_exit());
  keep->del();
}

TEST_P(LoopControl, LoopexitDelayAloneKeepsTheLoopAliveUntilItFires) {
  base_.loopexit(Duration(10ms));
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_TRUE(base_.got_exit());
}

TEST_P(LoopControl, ExitRequestedBeforeTheLoopIsSticky) {
  auto keep = Event::timer(base_, [](int, EventFlags) {});
  keep->add(Duration(1h));
  base_.loopexit();
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);  // would block for an hour if lost
  EXPECT_TRUE(base_.got_exit());
  base_.loopbreak();
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_TRUE(base_.got_break());
  // Consumed: the next loop runs normally.
  EXPECT_EQ(base_.loop(kLoopNonblock), LoopResult::kExited);
  EXPECT_FALSE(base_.got_exit());
  EXPECT_FALSE(base_.got_break());
  keep->del();
}

TEST_P(LoopControl, BreakFromAnotherThreadBeforeTheLoopIsSticky) {
  auto keep = Event::timer(base_, [](int, EventFlags) {});
  keep->add(Duration(1h));
  std::thread([this] { base_.loopbreak(); }).join();
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_TRUE(base_.got_break());
  std::thread([this] { base_.loopexit(); }).join();
  EXPECT_EQ(base_.dispatch(), LoopResult::kExited);
  EXPECT_TRUE(base_.got_exit());
  keep->del();
}

// A base built on one thread and looped on another: the builder cannot know whether the
// loop has started when it asks for the exit. The request must neither race (TSan) nor be
// lost (the worker would never return).
TEST_P(LoopControl, ExitRightAfterHandingTheBaseToAnotherThread) {
  for (int round = 0; round < 20; ++round) {
    std::thread worker([this] { base_.loop(kLoopNoExitOnEmpty); });
    if (round % 2 == 0) {
      base_.loopexit();
    } else {
      base_.loopbreak();
    }
    worker.join();
    base_.loop(kLoopNonblock);  // the main thread takes the base back
    EXPECT_TRUE(base_.in_loop_thread());
  }
}

TEST_P(LoopControl, LoopcontinueStopsThePassAndPollsAgain) {
  int calls = 0;
  auto a = Event::timer(base_, [&](int, EventFlags) {
    ++calls;
    base_.loopcontinue();
  });
  auto b = Event::timer(base_, [&](int, EventFlags) { ++calls; });
  a->activate(kTimeout);
  b->activate(kTimeout);
  uint64_t iterations = base_.stats().iterations;
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(base_.stats().iterations, iterations + 1);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(calls, 2);
}

TEST_P(LoopControl, LoopIsNotReentrant) {
  bool threw = false;
  auto t = Event::timer(base_, [&](int, EventFlags) {
    try {
      base_.loop(kLoopNonblock);
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  t->activate(kTimeout);
  base_.loop(kLoopNonblock);
  EXPECT_TRUE(threw);
}

// The application's per-loop pointer: nullptr at first, then whatever was set, found from
// inside a callback through the base alone (reactord finds a connection's loop state so).
TEST_P(LoopControl, UserDataIsFoundThroughTheBaseFromACallback) {
  EXPECT_EQ(base_.user_data(), nullptr);
  int loop_state = 7;
  base_.set_user_data(&loop_state);
  SocketPair sp;
  int seen = 0;
  Event ev(base_, sp.a.get(), kRead, [&](int, EventFlags) { seen = *static_cast<int*>(base_.user_data()); });
  ev.add();
  WriteByte(sp.b.get());
  EXPECT_EQ(base_.loop(kLoopOnce), LoopResult::kExited);
  EXPECT_EQ(seen, 7);
  base_.set_user_data(nullptr);
  EXPECT_EQ(base_.user_data(), nullptr);
}

REACTORD_BACKEND_SUITE(LoopControl);

}  // namespace
}  // namespace reactord::test_support
