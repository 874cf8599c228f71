#include "server/reload.h"

namespace reactord {

const char* to_string(ReloadItem::Outcome outcome) {
  switch (outcome) {
    case ReloadItem::Outcome::kUnchanged:
      return "unchanged";
    case ReloadItem::Outcome::kChanged:
      return "changed";
    case ReloadItem::Outcome::kKept:
      return "kept";
    case ReloadItem::Outcome::kNeedsRestart:
      return "needs_restart";
  }
  return "?";
}

bool ReloadReport::ok() const {
  for (const auto& item : items) {
    if (item.outcome == ReloadItem::Outcome::kKept) return false;
  }
  return true;
}

std::string ReloadReport::summary() const {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ' ';
    out += item.name + '=' + to_string(item.outcome);
    if (item.outcome == ReloadItem::Outcome::kKept || item.outcome == ReloadItem::Outcome::kNeedsRestart) {
      out += "(" + item.detail + ")";
    }
  }
  // An audit line stays bounded whatever the files' errors say.
  constexpr std::size_t kMax = 1024;
  if (out.size() > kMax) {
    const std::size_t left_out = out.size() - kMax;
    out.resize(kMax);
    out += "...(" + std::to_string(left_out) + " more chars)";
  }
  return out;
}

}  // namespace reactord
