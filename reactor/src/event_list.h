// The intrusive list an EventCore sits in through fd_prev / fd_next: the events of one fd
// (EventBaseImpl::fd_heads), of one signal number (SignalPipe), or the base's loose list (every
// other event). The three lists share these two operations, written once (libevent's
// LIST_INSERT_HEAD / LIST_REMOVE over ev_io_next / ev_signal_next). Loop thread only.
#pragma once

#include "reactor/detail/event_core.h"

namespace reactor::detail {

// Puts ev first in the list that starts at head. O(1).
inline void link_front(EventCore*& head, EventCore* ev) {
  ev->fd_prev = nullptr;
  ev->fd_next = head;
  if (head) head->fd_prev = ev;
  head = ev;
}

// Takes ev out of the list that starts at head (head moves on when ev was first), and leaves
// ev's links null. O(1).
inline void unlink_from(EventCore*& head, EventCore* ev) {
  if (ev->fd_prev)
    ev->fd_prev->fd_next = ev->fd_next;
  else
    head = ev->fd_next;
  if (ev->fd_next) ev->fd_next->fd_prev = ev->fd_prev;
  ev->fd_prev = ev->fd_next = nullptr;
}

}  // namespace reactor::detail
