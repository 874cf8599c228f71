// The process-wide half of signal handling. A signal's disposition is process-wide, so one
// table says, per signal number, which base owns it and where its handler writes.
//
// The handler is async-signal-safe: it loads the owner's pipe write end from an atomic int
// and write()s the signal number as one byte (non-blocking; a full pipe just drops the byte,
// the pending bytes already wake the loop). It may run on any thread; the loop thread reads
// the pipe and runs the callbacks.
//
// A signal number belongs to one base at a time: acquiring it for a second base throws
// std::logic_error. The previous disposition is saved at the first acquire and restored at
// release.
#pragma once

#include <cstdint>

namespace reactor::detail {

// Installs our handler for signo (first time) and records owner and its pipe's write end.
// Throws std::logic_error if another owner holds signo, std::invalid_argument for a bad
// number, std::system_error if sigaction fails.
void signal_acquire(int signo, const void* owner, int write_fd);
// Restores the previous disposition and forgets the owner. No-op if owner does not hold it.
void signal_release(int signo, const void* owner);
// The handler's failed pipe writes (not EAGAIN) for the signals owner holds now. Any thread.
std::uint64_t signal_write_errors(const void* owner);
// After fork (reinit): the owner's signals now write to a new pipe.
void signal_retarget(const void* owner, int write_fd);

bool valid_signal_number(int signo);

}  // namespace reactor::detail
