#include "server/openssl_reason.h"

#include <openssl/err.h>

namespace reactord {

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();  // NOLINT(google-runtime-int)
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unreadable";
}

}  // namespace reactord
