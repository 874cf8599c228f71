// The fleet view: one reactorctl command against several reactord processes.
//   --target a:50051,b:50051,c:50051        or a DNS name with several addresses (a headless
//   Kubernetes Service): every address it resolves to, at the given port.
// Each target runs the command on its own thread with its own connection. Answers are merged
// in target order with a TARGET column: tables (conns, events, stats) become one table whose
// rows carry their target, other answers get the target in front of every line, --json wraps
// every document as {"target": T, "answer": DOC}. Streams (watch) print each line as it
// arrives, with its target. A target that fails (unreachable, refused) is reported on stderr
// with its name and does not hide the others; the exit code is the worst of them
// (1 > 3 > 2 > 0: an RPC error, then NOT_SERVING, then usage).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace reactorctl {

// "a,b,c" → {a, b, c}; "name:port" where name resolves to several addresses → one per
// address ("10.0.0.1:50051", "[fd00::1]:50051"); anything else → {target} unchanged.
// Throws std::invalid_argument for an empty element ("a,,b").
std::vector<std::string> expand_targets(const std::string& target);

enum class FleetShape {
  kTable,   // header line, rows, then trailing summary lines
  kLines,   // free text: every line gets the target
  kStream,  // lines as they come (watch)
};

// run(target, out, err) runs the command against one target and returns its exit code.
using TargetRun = std::function<int(const std::string& target, std::ostream& out, std::ostream& err)>;

int run_fleet(const std::vector<std::string>& targets, FleetShape shape, bool json, const TargetRun& run,
              std::ostream& out, std::ostream& err);

}  // namespace reactorctl
