#include "guard_peers.h"

#include <charconv>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace reactord::control {

namespace {

struct Entry {
  std::string peer;
  std::string certificate;
};

struct Directory {
  std::mutex mutex;
  std::unordered_map<int, Entry> peers;  // at most one entry per fd number
};

Directory& directory() {
  static Directory* d = new Directory;  // never destroyed: used by gRPC threads until exit
  return *d;
}

// The entry of a "fd:N" peer string, if it is a guarded connection's.
std::optional<Entry> lookup(std::string_view grpc_peer) {
  constexpr std::string_view kPrefix = "fd:";
  if (grpc_peer.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  int fd = -1;
  const char* begin = grpc_peer.data() + kPrefix.size();
  const char* end = grpc_peer.data() + grpc_peer.size();
  auto [ptr, ec] = std::from_chars(begin, end, fd);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  Directory& d = directory();
  std::lock_guard lock(d.mutex);
  auto it = d.peers.find(fd);
  if (it == d.peers.end()) return std::nullopt;
  return it->second;
}

}  // namespace

void remember_guarded_peer(int fd, std::string peer, std::string certificate) {
  Directory& d = directory();
  std::lock_guard lock(d.mutex);
  d.peers[fd] = Entry{std::move(peer), std::move(certificate)};
}

std::string real_peer(std::string_view grpc_peer) {
  auto entry = lookup(grpc_peer);
  return entry ? entry->peer : std::string(grpc_peer);
}

std::string guarded_certificate(std::string_view grpc_peer) {
  auto entry = lookup(grpc_peer);
  return entry ? entry->certificate : std::string();
}

}  // namespace reactord::control
