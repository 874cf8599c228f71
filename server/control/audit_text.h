// A request as audit text: protobuf's short text format ("filter { peer: \"10.0.0.0/8\" }
// mode: CLOSE_MODE_ABORT"), but bounded however large the request is. A repeated field shows
// its first elements and how many were left out, a long string its start and how many bytes
// were left out, and the whole text stops at a limit with the count of characters left out.
// CloseConnections with 1,000,000 ids costs a short line, not megabytes, per call, refused
// or not. Any thread.
#pragma once

#include <cstddef>
#include <string>

namespace google::protobuf {
class Message;
}

namespace reactord::control {

struct AuditTextLimits {
  std::size_t repeated_elements = 16;  // per repeated field
  std::size_t string_bytes = 128;      // per string / bytes value
  std::size_t total = 2048;            // the whole text
};

std::string audit_text(const google::protobuf::Message& message, const AuditTextLimits& limits = {});

}  // namespace reactord::control
