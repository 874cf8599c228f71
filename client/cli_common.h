// What the clients (reactorctl, reactor-client, reactor-bench) share on their command line:
// CLI11 validators over the one duration/size grammar (units/units.h) and strict whole
// numbers, and one parse step that turns every usage error into one line on stderr naming the
// flag and exit code 2. Header-only (CLI11 is header-only). Any thread.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include "units/units.h"

namespace reactord::cli {

inline constexpr int kExitUsage = 2;

// A duration in the grammar of units/units.h ("500ms", "30s", "1h30m", "0").
inline CLI::Validator duration() {
  return CLI::Validator([](std::string& text) { return units::parse_duration(text).error; }, "DURATION",
                        "DURATION");
}

// A size in the grammar of units/units.h ("65536", "64K", "1.5MiB").
inline CLI::Validator size() {
  return CLI::Validator([](std::string& text) { return units::parse_size(text).error; }, "SIZE", "SIZE");
}

// Digits only, fitting 64 bits: CLI11 alone lets "-5" wrap to 18446744073709551611.
inline CLI::Validator whole_number(std::uint64_t max = UINT64_MAX) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
          return "'" + text + "' is not a whole number from 0 to " + std::to_string(max);
        }
        return {};
      },
      "", "UINT");
}

// Parses argv. --help and --version print to stdout and give 0; every other error prints
// "<program>: <what, naming the flag> (see <program> --help)" on one line and gives 2.
// nullopt when the command line is good.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv, const std::string& program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    std::cerr << program << ": " << what << " (see " << program << " --help)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace reactord::cli
