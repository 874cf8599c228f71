#include "auth.h"

#include <vector>

#include "secret_file.h"
#include "units/text.h"

namespace reactord::control {

namespace {

// The first line of a token file, surrounding whitespace trimmed. A token is what an HTTP/2
// header value may carry: visible ASCII without spaces.
std::optional<std::string> read_token(const std::string& flag, const std::string& path, std::string* error,
                                      std::vector<std::string>* warnings) {
  SecretFile file = read_secret_file(path, kMaxTokenFileBytes);
  if (!file.ok) {
    if (error) *error = flag + " " + file.error;
    return std::nullopt;
  }
  std::string line = file.content.substr(0, file.content.find('\n'));
  line = std::string(text::trim(line));
  if (line.empty()) {
    if (error) *error = flag + " " + path + ": holds no token";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c <= 0x20 || c >= 0x7f) {
      if (error) {
        *error = flag;
        error->append(" ").append(path).append(": not a token (byte ").append(std::to_string(i + 1));
        error->append(" is not a visible ASCII character)");
      }
      return std::nullopt;
    }
  }
  if (file.world_readable && warnings) {
    warnings->push_back(flag + " " + path + " is readable by every user (chmod 600 it)");
  }
  return line;
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kViewer:
      return "viewer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

bool constant_time_equal(std::string_view presented, std::string_view expected) {
  // Walk the presented token fully; index the expected one modulo its size so no early exit
  // and no branch depends on the secret's content.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  if (expected.empty()) return false;
  for (std::size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

std::optional<TokenAuth> TokenAuth::load(const std::string& admin_file, const std::string& viewer_file,
                                         std::string* error, std::vector<std::string>* warnings) {
  TokenAuth auth;
  if (!admin_file.empty()) {
    auto t = read_token("--control-token-file", admin_file, error, warnings);
    if (!t) return std::nullopt;
    auth.admin_ = *t;
  }
  if (!viewer_file.empty()) {
    auto t = read_token("--control-viewer-token-file", viewer_file, error, warnings);
    if (!t) return std::nullopt;
    auth.viewer_ = *t;
  }
  if (!auth.admin_.empty() && auth.admin_ == auth.viewer_) {
    if (error) *error = "--control-viewer-token-file: the admin and viewer tokens must differ";
    return std::nullopt;
  }
  return auth;
}

std::optional<std::string> TokenAuth::read_file(const std::string& flag, const std::string& path,
                                                std::string* error, std::vector<std::string>* warnings) {
  return read_token(flag, path, error, warnings);
}

TokenAuth TokenAuth::from_tokens(std::string admin, std::string viewer) {
  TokenAuth auth;
  auth.admin_ = std::move(admin);
  auth.viewer_ = std::move(viewer);
  return auth;
}

AuthResult TokenAuth::check(std::optional<std::string_view> authorization, Role needed, Role* role) const {
  *role = Role::kNone;
  if (!enabled()) {
    *role = Role::kAdmin;
    return AuthResult::kOk;
  }
  if (!authorization) return AuthResult::kMissing;
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view value = *authorization;
  if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) {
    return AuthResult::kInvalid;
  }
  std::string_view token = value.substr(kBearer.size());
  // Check both so the time taken does not tell which role a token was close to.
  bool is_admin = !admin_.empty() && constant_time_equal(token, admin_);
  bool is_viewer = !viewer_.empty() && constant_time_equal(token, viewer_);
  if (is_admin) {
    *role = Role::kAdmin;
  } else if (is_viewer) {
    *role = Role::kViewer;
  } else {
    return AuthResult::kInvalid;
  }
  if (needed == Role::kAdmin && *role != Role::kAdmin) return AuthResult::kForbidden;
  return AuthResult::kOk;
}

}  // namespace reactord::control
