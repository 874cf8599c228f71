// The token files at a reload (SIGHUP, Control.Reload): each file re-read as at start, but
// stricter — a file other users can read is refused too (at start it is only a warning, so
// that an existing deployment still starts). A bad file keeps its old token; a good one
// replaces it. Any thread. No gRPC.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth.h"
#include "server/reload.h"

namespace reactord::control {

struct TokenReload {
  std::vector<ReloadItem> items;   // "control.admin_token", "control.viewer_token" (when configured)
  std::optional<TokenAuth> fresh;  // the set to swap in, when a token changed
};

TokenReload reload_tokens(const TokenAuth& current, const std::string& admin_file,
                          const std::string& viewer_file);

}  // namespace reactord::control
