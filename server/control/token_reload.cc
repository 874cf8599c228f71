#include "token_reload.h"

namespace reactord::control {

namespace {

// Reads one token file; fills item and returns the token to use (the old one when the new
// file is bad).
std::string reread(const char* flag, const std::string& path, const std::string& old, ReloadItem& item) {
  std::string error;
  std::vector<std::string> warnings;
  auto token = TokenAuth::read_file(flag, path, &error, &warnings);
  if (!token) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = error;
    return old;
  }
  if (!warnings.empty()) {
    item.outcome = ReloadItem::Outcome::kKept;
    item.detail = warnings.front();
    return old;
  }
  if (*token == old) {
    item.outcome = ReloadItem::Outcome::kUnchanged;
    item.detail = path;
    return old;
  }
  item.outcome = ReloadItem::Outcome::kChanged;
  item.detail = "new token from " + path;
  return *token;
}

}  // namespace

TokenReload reload_tokens(const TokenAuth& current, const std::string& admin_file,
                          const std::string& viewer_file) {
  TokenReload r;
  std::string admin = current.admin_token(), viewer = current.viewer_token();
  std::optional<ReloadItem> admin_item, viewer_item;
  if (!admin_file.empty()) {
    admin_item = ReloadItem{"control.admin_token", ReloadItem::Outcome::kUnchanged, ""};
    admin = reread("--control-token-file", admin_file, admin, *admin_item);
  }
  if (!viewer_file.empty()) {
    viewer_item = ReloadItem{"control.viewer_token", ReloadItem::Outcome::kUnchanged, ""};
    viewer = reread("--control-viewer-token-file", viewer_file, viewer, *viewer_item);
  }
  if (!admin.empty() && admin == viewer) {
    // The roles would be indistinguishable: keep both as they were.
    for (auto* item : {&admin_item, &viewer_item}) {
      if (*item && (*item)->outcome == ReloadItem::Outcome::kChanged) {
        (*item)->outcome = ReloadItem::Outcome::kKept;
        (*item)->detail = "the admin and viewer tokens must differ";
      }
    }
    admin = current.admin_token();
    viewer = current.viewer_token();
  }
  if (admin_item) r.items.push_back(*admin_item);
  if (viewer_item) r.items.push_back(*viewer_item);
  if (admin != current.admin_token() || viewer != current.viewer_token()) {
    r.fresh = TokenAuth::from_tokens(admin, viewer);
  }
  return r;
}

}  // namespace reactord::control
