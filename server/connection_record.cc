#include "server/connection_record.h"

namespace reactord {

const char* to_string(ConnectionState state) {
  switch (state) {
    case ConnectionState::kOpen:
      return "open";
    case ConnectionState::kDraining:
      return "draining";
    case ConnectionState::kClosing:
      return "closing";
    case ConnectionState::kReadPaused:
      return "read-paused";
    case ConnectionState::kClosed:
      return "closed";
  }
  return "?";
}

const char* to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerEof:
      return "peer_eof";
    case CloseReason::kError:
      return "error";
    case CloseReason::kIdleTimeout:
      return "idle_timeout";
    case CloseReason::kAdmin:
      return "admin";
    case CloseReason::kDrain:
      return "drain";
    case CloseReason::kShutdown:
      return "shutdown";
    case CloseReason::kNoMemory:
      return "no_memory";
  }
  return "?";
}

const char* to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMaxConnections:
      return "max_connections";
    case RejectReason::kDraining:
      return "draining";
    case RejectReason::kSetupError:
      return "setup_error";
    case RejectReason::kFdReserve:
      return "fd_reserve";
  }
  return "?";
}

}  // namespace reactord
