// Bearer-token authentication for the control plane. Two roles: an admin token (both
// services) and a viewer token (Inspect only). Tokens come from files (first line, surrounding
// whitespace trimmed) and are compared in constant time. Health and reflection stay open: the
// check is made by our own handlers, not by a transport-wide hook.
// Any thread (immutable after load).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reactord::control {

// A token file is a line, not a document.
inline constexpr std::size_t kMaxTokenFileBytes = 4096;

enum class Role { kNone, kViewer, kAdmin };
const char* to_string(Role role);

enum class AuthResult { kOk, kMissing, kInvalid, kForbidden };

class TokenAuth {
 public:
  // No token configured: everyone is admin (only allowed on a loopback control address).
  TokenAuth() = default;
  // Reads the token files (empty path = that role has no token; at most kMaxTokenFileBytes
  // each). nullopt with the reason in *error ("--control-token-file PATH: why") if a file
  // cannot be read, is not a regular file, is too large or holds no token, or if both tokens
  // are equal. A file other users can read adds a line to *warnings.
  static std::optional<TokenAuth> load(const std::string& admin_file, const std::string& viewer_file,
                                       std::string* error, std::vector<std::string>* warnings = nullptr);
  static TokenAuth from_tokens(std::string admin, std::string viewer);

  bool enabled() const { return !admin_.empty() || !viewer_.empty(); }

  // One token file read as load() reads it ("--control-token-file" as flag): the token, or
  // nullopt with the reason in *error. Any thread.
  static std::optional<std::string> read_file(const std::string& flag, const std::string& path,
                                              std::string* error, std::vector<std::string>* warnings);
  // The tokens themselves, for a reload to tell what changed (never logged). Any thread.
  const std::string& admin_token() const { return admin_; }
  const std::string& viewer_token() const { return viewer_; }

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
