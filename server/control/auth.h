// Bearer-token authentication for the control plane. Two roles: an admin token (both
// services) and a viewer token (Inspect only). Tokens come from files (first line, surrounding
// whitespace trimmed) and are compared in constant time. Health and reflection stay open: the
// check is made by our own handlers, not by a transport-wide hook.
// Any thread (immutable after load).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reactord::control {

enum class Role { kNone, kViewer, kAdmin };
const char* to_string(Role role);

enum class AuthResult { kOk, kMissing, kInvalid, kForbidden };

class TokenAuth {
 public:
  // No token configured: everyone is admin (only allowed on a loopback control address).
  TokenAuth() = default;
  // Reads the token files (empty path = that role has no token). nullopt with the reason in
  // *error if a file cannot be read or holds no token, or if both tokens are equal.
  static std::optional<TokenAuth> load(const std::string& admin_file,
                                       const std::string& viewer_file, std::string* error);
  static TokenAuth from_tokens(std::string admin, std::string viewer);

  bool enabled() const { return !admin_.empty() || !viewer_.empty(); }

  // Checks the "authorization" metadata value ("Bearer <token>", nullopt when absent) for a
  // call that needs `needed`. *role is set to who the caller is (for the audit log).
  AuthResult check(std::optional<std::string_view> authorization, Role needed, Role* role) const;

 private:
  std::string admin_;
  std::string viewer_;
};

// Equal-length-independent constant-time comparison (time depends only on presented.size()).
bool constant_time_equal(std::string_view presented, std::string_view expected);

}  // namespace reactord::control
