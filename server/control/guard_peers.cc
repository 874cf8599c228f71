#include "guard_peers.h"

#include <charconv>
#include <mutex>
#include <unordered_map>

namespace reactord::control {

namespace {

struct Directory {
  std::mutex mutex;
  std::unordered_map<int, std::string> peers;  // at most one entry per fd number
};

Directory& directory() {
  static Directory* d = new Directory;  // never destroyed: used by gRPC threads until exit
  return *d;
}

}  // namespace

void remember_guarded_peer(int fd, std::string peer) {
  Directory& d = directory();
  std::lock_guard lock(d.mutex);
  d.peers[fd] = std::move(peer);
}

std::string real_peer(std::string_view grpc_peer) {
  constexpr std::string_view kPrefix = "fd:";
  if (grpc_peer.substr(0, kPrefix.size()) != kPrefix) return std::string(grpc_peer);
  int fd = -1;
  const char* begin = grpc_peer.data() + kPrefix.size();
  const char* end = grpc_peer.data() + grpc_peer.size();
  auto [ptr, ec] = std::from_chars(begin, end, fd);
  if (ec != std::errc() || ptr != end) return std::string(grpc_peer);
  Directory& d = directory();
  std::lock_guard lock(d.mutex);
  auto it = d.peers.find(fd);
  return it == d.peers.end() ? std::string(grpc_peer) : it->second;
}

}  // namespace reactord::control
