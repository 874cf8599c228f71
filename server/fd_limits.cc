#include "server/fd_limits.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>

namespace reactord {

namespace {
std::uint64_t to_u64(rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(v); }
}  // namespace

NofileLimit raise_nofile_limit() {
  NofileLimit result;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return result;
  result.soft_before = result.soft = to_u64(limit.rlim_cur);
  result.hard = to_u64(limit.rlim_max);
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) result.soft = result.hard;
  }
  return result;
}

std::uint64_t nofile_soft_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return UINT64_MAX;
  return to_u64(limit.rlim_cur);
}

std::size_t count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::size_t n = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the directory's own fd
}

FdBudget fd_budget(std::uint64_t soft_limit, std::size_t in_use, std::size_t wanted_reserve) {
  FdBudget budget;
  if (soft_limit == UINT64_MAX) {
    budget.reserve = wanted_reserve;
    return budget;
  }
  const std::uint64_t left = soft_limit > in_use ? soft_limit - in_use : 0;
  budget.reserve = static_cast<std::size_t>(std::min<std::uint64_t>(wanted_reserve, left / 2));
  budget.data_cap = static_cast<std::size_t>(left - budget.reserve);
  return budget;
}

}  // namespace reactord
