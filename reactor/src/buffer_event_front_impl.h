// BufferEventFront's member functions (reactor/buffer_event_front.h), for the .cc of each
// Derived to instantiate explicitly once Derived::Impl is complete:
//   template class BufferEventFront<Derived>;
// What they use of Derived::Impl (BufferEvent's: buffer_event_impl.h, TlsBufferEvent's:
// tls_buffer_event.cc), which holds the class's own meaning of each call:
//   Buffer input, output;                  what input() / output() return
//   bool accepts_writes() const;           false once closed or shut for writing
//   void enable(EventFlags), disable(EventFlags); EventFlags enabled() const;
//   void flush_output();                   send what output holds, as far as it can now
//   void write_buffer(Buffer& data);       move data to output and send (write_buffer)
//   void set_read_watermarks(std::size_t low, std::size_t high);
//   void set_write_low_watermark(std::size_t low);
#pragma once

#include <cstddef>

#include "reactor/buffer.h"
#include "reactor/buffer_event_front.h"
#include "reactor/event_flags.h"

namespace reactor {

template <class Derived>
void BufferEventFront<Derived>::enable(EventFlags what) {
  self().impl_->enable(what);
}

template <class Derived>
void BufferEventFront<Derived>::disable(EventFlags what) {
  self().impl_->disable(what);
}

template <class Derived>
EventFlags BufferEventFront<Derived>::enabled() const {
  return self().impl_->enabled();
}

// Both kinds append, then send as flush_output() does: a BufferEvent tries the socket at once,
// a TlsBufferEvent encrypts at once when writing is enabled.
template <class Derived>
void BufferEventFront<Derived>::write(const void* data, std::size_t len) {
  auto& d = *self().impl_;
  if (len == 0 || !d.accepts_writes()) return;
  d.output.append(data, len);
  d.flush_output();
}

template <class Derived>
void BufferEventFront<Derived>::write_buffer(Buffer& data) {
  auto& d = *self().impl_;
  if (data.empty() || !d.accepts_writes()) return;
  d.write_buffer(data);
}

template <class Derived>
Buffer& BufferEventFront<Derived>::input() {
  return self().impl_->input;
}

template <class Derived>
Buffer& BufferEventFront<Derived>::output() {
  return self().impl_->output;
}

template <class Derived>
const Buffer& BufferEventFront<Derived>::input() const {
  return self().impl_->input;
}

template <class Derived>
const Buffer& BufferEventFront<Derived>::output() const {
  return self().impl_->output;
}

template <class Derived>
void BufferEventFront<Derived>::flush_output() {
  self().impl_->flush_output();
}

template <class Derived>
void BufferEventFront<Derived>::set_read_watermarks(std::size_t low, std::size_t high) {
  self().impl_->set_read_watermarks(low, high);
}

template <class Derived>
void BufferEventFront<Derived>::set_write_low_watermark(std::size_t low) {
  self().impl_->set_write_low_watermark(low);
}

}  // namespace reactor
