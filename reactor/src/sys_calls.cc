#include "reactor/sys_calls.h"

namespace reactor {

namespace detail {
constinit thread_local SysCalls* t_sys_calls = nullptr;
}  // namespace detail

SysCalls* install_sys_calls(SysCalls* calls) {
  SysCalls* previous = detail::t_sys_calls;
  detail::t_sys_calls = calls;
  return previous;
}

}  // namespace reactor
