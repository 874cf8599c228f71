// Priorities: every active event of a more urgent level runs before any less urgent one, and
// the choice is re-made after each callback.
#include <string>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class Priorities : public ReactorTest {};

TEST_P(Priorities, MoreUrgentLevelRunsFirst) {
  base_.set_priorities(3);
  EXPECT_EQ(base_.priorities(), 3);
  SocketPair s0, s1, s2;
  std::string order;
  Event low(base_, s2.a.get(), kRead, [&](int, EventFlags) { order += '2'; });
  Event mid(base_, s1.a.get(), kRead, [&](int, EventFlags) { order += '1'; });
  Event high(base_, s0.a.get(), kRead, [&](int, EventFlags) { order += '0'; });
  EXPECT_EQ(low.priority(), 1);  // default: the middle level, as in libevent
  low.set_priority(2);
  mid.set_priority(1);
  high.set_priority(0);
  // Registered least urgent first, so that fd / registration order cannot explain the result.
  low.add();
  mid.add();
  high.add();
  WriteByte(s2.b.get());
  WriteByte(s1.b.get());
  WriteByte(s0.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(order, "012");
}

TEST_P(Priorities, UrgentEventActivatedByCallbackJumpsTheQueue) {
  base_.set_priorities(2);
  std::string order;
  auto urgent = Event::timer(base_, [&](int, EventFlags) { order += 'U'; });
  urgent->set_priority(0);
  auto b = Event::timer(base_, [&](int, EventFlags) { order += 'B'; });
  auto a = Event::timer(base_, [&](int, EventFlags) {
    order += 'A';
    urgent->activate(kTimeout);
  });
  a->set_priority(1);
  b->set_priority(1);
  a->activate(kTimeout);
  b->activate(kTimeout);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(order, "AUB");
}

TEST_P(Priorities, ChangesAreRefusedWhileActiveAndOutOfRange) {
  base_.set_priorities(2);
  auto t = Event::timer(base_, [](int, EventFlags) {});
  EXPECT_THROW(t->set_priority(2), std::invalid_argument);
  EXPECT_THROW(t->set_priority(-1), std::invalid_argument);
  t->activate(kTimeout);
  EXPECT_THROW(t->set_priority(0), std::logic_error);
  EXPECT_THROW(base_.set_priorities(4), std::logic_error);
  EXPECT_EQ(base_.counts().active_per_priority.at(1), 1u);
  t->del();
  base_.set_priorities(4);
  EXPECT_EQ(base_.counts().active_per_priority.size(), 4u);
  EXPECT_THROW(base_.set_priorities(0), std::invalid_argument);
}

REACTORD_BACKEND_SUITE(Priorities);

}  // namespace
}  // namespace reactord::test_support
