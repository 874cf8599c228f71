// The reason text of OpenSSL's last error ("no start line", "key values mismatch") for the
// one-line errors of the TLS flags and their reloads (the data plane's tls_context.cc, the
// control port's control/tls_reload.cc). Clears the thread's error queue, so that the next
// call does not report this error again. Any thread (OpenSSL's error queue is per thread).
#pragma once

#include <string>

namespace reactord {

// "unreadable" when the queue is empty or the code has no reason text.
std::string openssl_reason();

}  // namespace reactord
