// Component: something main.cc attaches to the Server that lives as long as it — the gRPC
// control plane, the Prometheus exporter. Server::start prepares every component before it
// binds anything, then starts components in the order they
// were added, after every loop is bound and running; Server::wait stops them in reverse order
// once shutdown begins, while the loops still run (so their post()s complete), and before any
// loop object is freed.
#pragma once

#include <string>
#include <vector>

#include "server/reload.h"

namespace reactord {

class Server;

class Component {
 public:
  virtual ~Component() = default;
  // For logs: "control", "metrics". Any thread.
  virtual std::string name() const = 0;
  // Check the configuration and load every file it needs, before any socket (the server's
  // or a component's) is bound. Throw ConfigError (server.h) with one line naming the flag
  // for a bad configuration, StartError for anything else (e.g. an address in use).
  // Main thread.
  virtual void prepare(const Server& server) { (void)server; }
  // Bind and start serving. Throw (std::exception with a clear message) on failure: the
  // server then stops what it started and Server::start rethrows. Main thread.
  virtual void start(Server& server) = 0;
  // Stop serving and release threads/sockets; must return within a few seconds. Not called if
  // start() threw. Main thread (the one in Server::wait).
  virtual void stop() = 0;
  // Reload without restart (SIGHUP, the Control RPC Reload; server/reload.h): re-read what
  // this component may change while serving (its files), validate it fully, swap it in for
  // its readers atomically, and return one item per thing reloaded — unchanged, changed, or
  // kept (the new one is bad: the old stays in force and detail says why). Never throws.
  // Called only between start() and stop(), one reload at a time (Server::reload serialises
  // them), on the signal thread or a control-plane thread.
  virtual std::vector<ReloadItem> reload() { return {}; }
};

}  // namespace reactord
