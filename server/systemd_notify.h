// SystemdNotify: tells systemd (Type=notify, deploy/systemd/reactord.service) how reactord is
// doing through sd_notify(3): READY=1 with a STATUS= line once it serves, STOPPING=1 when the
// shutdown begins. Without $NOTIFY_SOCKET (not under systemd) every call is a no-op.
// Added last to the Server: components start in order, so its start() runs once the loops,
// the metrics exporter and the control plane are all up, and its stop() runs first.
#pragma once

#include <string>

#include "server/component.h"

namespace reactord {

class SystemdNotify final : public Component {
 public:
  std::string name() const override { return "systemd-notify"; }
  // READY=1, STATUS=serving on ADDRESS. Main thread.
  void start(Server& server) override;
  // STOPPING=1. Main thread.
  void stop() override;
};

}  // namespace reactord
