#include "reactord_process.h"

namespace reactord::test_support {

Reactord::Reactord(std::vector<std::string> extra) {
  std::vector<std::string> argv = {REACTORD_BIN,  "--listen",         "127.0.0.1:0", "--control-listen",
                                   "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process = std::make_unique<ChildProcess>(argv);
  auto control_line = process->wait_for_line("control plane listening on ", 20s);
  if (control_line) {
    std::string rest = control_line->substr(control_line->find("listening on ") + 13);
    control = rest.substr(0, rest.find_first_of(" ,"));
  }
  // The data port, from the control plane itself.
  if (!control.empty()) {
    auto info = ctl({"--json", "info"});
    v1::ServerInfo parsed;
    if (info.exit_code == 0 && google::protobuf::util::JsonStringToMessage(info.out, &parsed).ok() &&
        parsed.listen_addresses_size() > 0) {
      auto address = reactor::SocketAddress::parse(parsed.listen_addresses(0));
      if (address) data_port = address->port();
    }
  }
}

RunResult Reactord::ctl(std::vector<std::string> args, std::vector<std::string> global,
                        std::chrono::milliseconds limit) {
  std::vector<std::string> argv = {REACTORCTL_BIN, "--target", target(), "--timeout", "5s"};
  argv.insert(argv.end(), global.begin(), global.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, limit);
}

bool Reactord::wait_connections(int n, std::chrono::milliseconds limit) {
  return eventually(
      [&] {
        auto info = ctl({"--json", "info"});
        if (info.exit_code != 0) return false;
        v1::ServerInfo parsed;
        return google::protobuf::util::JsonStringToMessage(info.out, &parsed).ok() &&
               parsed.connections() == static_cast<std::uint64_t>(n);
      },
      limit);
}

}  // namespace reactord::test_support
