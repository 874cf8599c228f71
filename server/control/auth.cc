#include "auth.h"

#include <fstream>
#include <sstream>

namespace reactord::control {

namespace {

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::optional<std::string> read_token(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = "cannot read token file " + path;
    return std::nullopt;
  }
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) {
    if (error) *error = "token file " + path + " holds no token";
    return std::nullopt;
  }
  return line;
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kNone: return "none";
    case Role::kViewer: return "viewer";
    case Role::kAdmin: return "admin";
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

std::optional<TokenAuth> TokenAuth::load(const std::string& admin_file,
                                         const std::string& viewer_file, std::string* error) {
  TokenAuth auth;
  if (!admin_file.empty()) {
    auto t = read_token(admin_file, error);
    if (!t) return std::nullopt;
    auth.admin_ = *t;
  }
  if (!viewer_file.empty()) {
    auto t = read_token(viewer_file, error);
    if (!t) return std::nullopt;
    auth.viewer_ = *t;
  }
  if (!auth.admin_.empty() && auth.admin_ == auth.viewer_) {
    if (error) *error = "the admin and viewer tokens must differ";
    return std::nullopt;
  }
  return auth;
}

TokenAuth TokenAuth::from_tokens(std::string admin, std::string viewer) {
  TokenAuth auth;
  auth.admin_ = std::move(admin);
  auth.viewer_ = std::move(viewer);
  return auth;
}

AuthResult TokenAuth::check(std::optional<std::string_view> authorization, Role needed,
                            Role* role) const {
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
