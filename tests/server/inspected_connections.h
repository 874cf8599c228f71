// What the memory tests check once they have measured: that the bytes they counted still buy
// every inspection feature. On loop 0: the read events the base lists with an owner that is a
// registered connection and the label "bev.read", and the connections whose registry entry
// knows their read event's id. Both equal the connection count when inspection is whole.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "server/connection.h"
#include "server/loop_worker.h"
#include "server_fixture.h"

namespace reactord::test_support {

struct InspectedConnections {
  std::size_t reads_with_owner = 0;  // listed read events owned by a registered connection
  std::size_t ids_known = 0;         // connections whose read event id is known
};

// Any thread but loop 0's (it waits for loop 0).
inline InspectedConnections count_inspected_connections(Server& server) {
  return on_loop(server, 0, [](LoopWorker& w) {
    InspectedConnections counts;
    for (const auto& e : w.base().snapshot()) {
      if (e.label == "bev.read" && e.owner != 0 && w.registry().find(e.owner) != nullptr)
        ++counts.reads_with_owner;
    }
    w.registry().for_each_from(0, [&counts](Connection& c) {
      if (c.buffer_event().read_event_id() != 0) ++counts.ids_known;
      return true;
    });
    return counts;
  });
}

// Inspection is whole for `connections` connections on loop 0: each one's read event is listed
// with its owner (the connection id) and label, and the registry knows its event ids. Any
// thread but loop 0's.
inline void expect_inspection_whole(Server& server, std::size_t connections) {
  const InspectedConnections check = count_inspected_connections(server);
  EXPECT_EQ(check.reads_with_owner, connections);
  EXPECT_EQ(check.ids_known, connections);
}

}  // namespace reactord::test_support
