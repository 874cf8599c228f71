// defer_delete: the way to destroy an object (and its events) from its own callback.
#include <memory>

#include "reactor_test_util.h"

namespace reactord::test_support {
namespace {

using namespace reactor;  // the library under test

class DeferDelete : public ReactorTest {};

// A typical owner: holds an event whose callback wants to destroy the owner.
struct Connection {
  Connection(EventBase& base, int fd, int* destroyed_count, std::unique_ptr<Connection>* slot)
      : destroyed(destroyed_count), ev(base, fd, kRead | kPersist, [this, &base, slot](int, EventFlags) {
          ++reads;
          base.defer_delete(std::move(*slot));  // "delete this", safely
        }) {
    ev.add();
  }
  ~Connection() { ++*destroyed; }
  int* destroyed;
  int reads = 0;
  Event ev;
};

TEST_P(DeferDelete, DestroyedAfterTheCallbacksOfThisPass) {
  SocketPair s1, s2;
  int destroyed = 0;
  int destroyed_when_b_ran = -1;
  std::unique_ptr<Connection> conn;
  conn = std::make_unique<Connection>(base_, s1.a.get(), &destroyed, &conn);
  Event b(base_, s2.a.get(), kRead, [&](int, EventFlags) { destroyed_when_b_ran = destroyed; });
  base_.set_priorities(2);
  b.set_priority(1);  // runs after the connection's callback in the same pass
  b.add();
  WriteByte(s1.b.get());
  WriteByte(s2.b.get());
  base_.loop(kLoopNonblock);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(destroyed_when_b_ran, 0) << "not destroyed before the pass ended";
  EXPECT_EQ(destroyed, 1) << "destroyed at the end of the iteration";
}

TEST_P(DeferDelete, OutsideTheLoopWaitsForTheNextIterationOrTheBase) {
  int destroyed = 0;
  struct Obj {
    int* d;
    ~Obj() { ++*d; }
  };
  base_.defer_delete(std::unique_ptr<Obj>(new Obj{&destroyed}));
  EXPECT_EQ(destroyed, 0);
  base_.loop(kLoopNonblock);
  EXPECT_EQ(destroyed, 1);
  {
    EventBase other(EventBaseConfig{GetParam(), 1});
    other.defer_delete(std::unique_ptr<Obj>(new Obj{&destroyed}));
  }
  EXPECT_EQ(destroyed, 2);
}

REACTORD_BACKEND_SUITE(DeferDelete);

}  // namespace
}  // namespace reactord::test_support
