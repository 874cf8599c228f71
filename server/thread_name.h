#pragma once
// Names the calling thread for `top -H`, `ps -L`, gdb and /proc/<pid>/task/*/comm, so an
// operator can tell a loop that spins from the metrics server or the control plane's health
// thread (gRPC names its own threads; ours would otherwise all read "reactord").
// Header-only: the HTTP server, which depends on the reactor alone, names its thread too.

#include <pthread.h>

#include <string>
#include <string_view>

namespace reactord {

// The kernel keeps 15 bytes of a thread's name; a longer one is cut there, not refused.
inline constexpr std::size_t kThreadNameMax = 15;

// Calling thread only. Prefixes "rd-" so our threads sort together and never read like gRPC's;
// spaces become '-' so `ps` columns stay aligned ("status page" -> "rd-status-page").
inline void name_this_thread(std::string_view role) {
  std::string name = "rd-";
  for (char c : role.substr(0, kThreadNameMax - name.size())) name.push_back(c == ' ' ? '-' : c);
  ::pthread_setname_np(::pthread_self(), name.c_str());
}

}  // namespace reactord
