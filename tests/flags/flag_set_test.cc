// The typed flag sets (reactor/flag_set.h): the operators keep libevent's bit values, any() and
// all_of() test bits, and the sets do not mix — checked here with concepts at compile time,
// and at the call sites by the FlagTypes.* compile cases (flag_misuse.cc).
#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

#include "reactor/buffer_event.h"
#include "reactor/event.h"
#include "reactor/event_flags.h"
#include "reactor/flag_set.h"
#include "support/flags.h"

namespace reactord::test_support {
namespace {

using reactor::EventFlags;

template <typename A, typename B>
concept Orable = requires(A a, B b) {
  a | b;
};
template <typename A, typename B>
concept Andable = requires(A a, B b) {
  a& b;
};

// A set combines with itself only, and never with a plain integer.
static_assert(Orable<EventFlags, EventFlags>);
static_assert(Andable<EventFlags, EventFlags>);
static_assert(!Orable<EventFlags, int>);
static_assert(!Andable<EventFlags, unsigned>);
static_assert(!std::is_convertible_v<int, EventFlags>);
static_assert(!std::is_convertible_v<EventFlags, int>);
static_assert(!std::is_convertible_v<EventFlags, bool>);
// BufferEvent::enable takes EventFlags only.
static_assert(
    std::is_invocable_v<decltype(&reactor::BufferEvent::enable), reactor::BufferEvent&, EventFlags>);
static_assert(!std::is_invocable_v<decltype(&reactor::BufferEvent::enable), reactor::BufferEvent&, int>);
// BevFlags, BevCallbacks and EventFlags are three sets: none converts to another, none combines
// with another.
static_assert(!Orable<EventFlags, reactor::BevFlags>);
static_assert(!Andable<reactor::BevFlags, EventFlags>);
static_assert(!Orable<reactor::BevFlags, reactor::BevCallbacks>);
static_assert(!std::is_convertible_v<reactor::BevFlags, EventFlags>);
static_assert(!std::is_convertible_v<EventFlags, reactor::BevFlags>);
static_assert(!std::is_convertible_v<reactor::BevCallbacks, reactor::BevFlags>);
static_assert(
    !std::is_invocable_v<decltype(&reactor::BufferEvent::enable), reactor::BufferEvent&, reactor::BevFlags>);
// The values are libevent's BEV_EVENT_* (event2/bufferevent.h).
static_assert(reactor::bits(reactor::kBevReading) == 0x01 && reactor::bits(reactor::kBevWriting) == 0x02 &&
              reactor::bits(reactor::kBevEof) == 0x10 && reactor::bits(reactor::kBevError) == 0x20 &&
              reactor::bits(reactor::kBevTimeout) == 0x40 && reactor::bits(reactor::kBevConnected) == 0x80);
// The values are libevent's EV_* (event2/event.h), so the C API maps them with one cast.
static_assert(reactor::bits(reactor::kTimeout) == 0x01 && reactor::bits(reactor::kRead) == 0x02 &&
              reactor::bits(reactor::kWrite) == 0x04 && reactor::bits(reactor::kSignal) == 0x08 &&
              reactor::bits(reactor::kPersist) == 0x10 && reactor::bits(reactor::kET) == 0x20 &&
              reactor::bits(reactor::kClosed) == 0x80);

TEST(FlagSet, OrAndXorAndNotKeepTheBits) {
  constexpr EventFlags rw = reactor::kRead | reactor::kWrite;
  EXPECT_EQ(reactor::bits(rw), 0x06);
  EXPECT_EQ(rw & reactor::kWrite, reactor::kWrite);
  EXPECT_EQ(rw ^ reactor::kRead, reactor::kWrite);
  EXPECT_EQ(rw & ~reactor::kRead, reactor::kWrite);
  EXPECT_EQ(reactor::bits(~reactor::kRead), 0xfffd);  // the whole 16-bit width
}

TEST(FlagSet, CompoundAssignmentsSetAndClearBits) {
  EventFlags f{};
  f |= reactor::kRead;
  f |= reactor::kPersist;
  EXPECT_EQ(f, reactor::kRead | reactor::kPersist);
  f &= ~reactor::kRead;
  EXPECT_EQ(f, reactor::kPersist);
  f ^= reactor::kPersist | reactor::kET;
  EXPECT_EQ(f, reactor::kET);
}

TEST(FlagSet, AnyAndAllOfTestBits) {
  const EventFlags f = reactor::kRead | reactor::kTimeout;
  EXPECT_TRUE(reactor::any(f & reactor::kRead));
  EXPECT_FALSE(reactor::any(f & reactor::kWrite));
  EXPECT_FALSE(reactor::any(EventFlags{}));
  EXPECT_TRUE(reactor::all_of(f, reactor::kRead | reactor::kTimeout));
  EXPECT_FALSE(reactor::all_of(f, reactor::kRead | reactor::kWrite));
  EXPECT_TRUE(reactor::all_of(f, EventFlags{}));
}

TEST(FlagSet, TestHelperPrintsEventFlagsByName) {
  std::ostringstream os;
  reactor::PrintTo(reactor::kRead | reactor::kPersist, &os);
  EXPECT_EQ(os.str(), "READ|PERSIST");
  EXPECT_EQ(::testing::PrintToString(reactor::kWrite | reactor::kClosed), "WRITE|CLOSED");
}

TEST(FlagSet, BevFlagsAndBevCallbacksHaveTheSameOperators) {
  reactor::BevFlags what = reactor::kBevEof | reactor::kBevReading;
  EXPECT_TRUE(reactor::any(what & reactor::kBevEof));
  what &= ~reactor::kBevReading;
  EXPECT_EQ(what, reactor::kBevEof);
  reactor::BevCallbacks which = reactor::kBevCbRead | reactor::kBevCbEvent;
  EXPECT_FALSE(reactor::any(which & reactor::kBevCbWrite));
  EXPECT_TRUE(reactor::all_of(which, reactor::kBevCbRead | reactor::kBevCbEvent));
  EXPECT_EQ(reactor::bits(which), 0x05);
}

TEST(FlagSet, TestHelperPrintsBevFlagsAndCallbacksByName) {
  EXPECT_EQ(::testing::PrintToString(reactor::kBevEof | reactor::kBevReading), "EOF|READING");
  EXPECT_EQ(::testing::PrintToString(reactor::kBevTimeout | reactor::kBevError | reactor::kBevWriting),
            "ERROR|TIMEOUT|WRITING");
  EXPECT_EQ(::testing::PrintToString(reactor::BevFlags{}), "0");
  EXPECT_EQ(::testing::PrintToString(reactor::kBevCbRead | reactor::kBevCbEvent), "READ|EVENT");
}

}  // namespace
}  // namespace reactord::test_support
