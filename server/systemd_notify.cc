#include "systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "server/server.h"

namespace reactord {

namespace {

void notify(const std::string& state) {
  // unset_environment = 0: a restarted component (tests) may notify again.
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0)
    spdlog::warn("sd_notify({}) failed: {}", state.substr(0, state.find('\n')), rc);
  else if (rc > 0)
    spdlog::debug("systemd notified: {}", state.substr(0, state.find('\n')));
}

}  // namespace

void SystemdNotify::start(Server& server) {
  notify("READY=1\nSTATUS=serving on " + server.listen_address().to_string());
}

void SystemdNotify::stop() { notify("STOPPING=1\nSTATUS=stopping"); }

}  // namespace reactord
