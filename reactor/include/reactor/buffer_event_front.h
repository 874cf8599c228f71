// BufferEventFront: the part of libevent's bufferevent API that every kind of BufferEvent
// shares (bufferevent_enable, bufferevent_write, bufferevent_get_input, bufferevent_setwatermark
// ...), declared once for BufferEvent (a socket) and TlsBufferEvent (TLS over a BufferEvent).
// Each class's header says what the calls mean for it (TlsBufferEvent: the plaintext side).
//
// A CRTP base without virtual functions and without state: an empty base, so the classes keep
// their size (one pointer to their Impl; issue #19 counts bytes per idle connection). The
// member functions are defined once, in src/buffer_event_front_impl.h, over what Derived::Impl
// provides, and explicitly instantiated in each class's .cc; the `extern template` after each
// class tells every other translation unit so. A call costs what it did: one out-of-line call.
//
// Thread rule: loop thread only, for every method (the loop the Derived object belongs to).
#pragma once

#include <cstddef>
#include <string_view>

#include "reactor/buffer.h"
#include "reactor/event_flags.h"

namespace reactor {

template <class Derived>
class BufferEventFront {
 public:
  // bufferevent_enable / disable (kRead | kWrite). Loop thread only.
  void enable(EventFlags what);
  void disable(EventFlags what);
  EventFlags enabled() const;

  // bufferevent_write: appends to the output, then sends as flush_output() does (nothing once
  // closed or shut for writing). bufferevent_write_buffer: moves all of `data` without
  // copying. Loop thread only.
  void write(const void* data, std::size_t len);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void write_buffer(Buffer& data);
  // bufferevent_get_input / get_output. Loop thread only. The const pair reads (lengths,
  // peeks, searches) from a const object.
  Buffer& input();
  Buffer& output();
  const Buffer& input() const;
  const Buffer& output() const;
  // Call after appending to output() directly, to start sending (bufferevent_write does it).
  // Loop thread only.
  void flush_output();

  // bufferevent_setwatermark. Read low: no read callback until the input holds that much.
  // Read high (0 = none): stop reading while the input holds at least that much — backpressure
  // — and resume when the reader drains below it. Write low: the write callback runs when the
  // output drains to it or below (default 0 = empty). Loop thread only.
  void set_read_watermarks(std::size_t low, std::size_t high);
  void set_write_low_watermark(std::size_t low);

 protected:
  BufferEventFront() = default;
  ~BufferEventFront() = default;

 private:
  // The Derived object: its impl_ is what the definitions use (Derived befriends its front).
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace reactor
