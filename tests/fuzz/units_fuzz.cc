// Fuzz target: the one duration and size grammar of every binary (units/units.h) on any text.
// Properties: a parsed duration is within 0..87600h and a parsed size within 0..2^63-1; the
// canonical text (format_duration / format_size) parses back to the same value and is its own
// canonical text; a refused text says why, and the flag's usage line names the flag.
//
// Input: the text.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "fuzz_support.h"
#include "units/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace units = reactord::units;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto duration = units::parse_duration(text);
  if (duration) {
    FUZZ_CHECK(duration->count() >= 0);
    FUZZ_CHECK(*duration <= std::chrono::hours(87600));
    const std::string canonical = units::format_duration(*duration);
    auto again = units::parse_duration(canonical);
    FUZZ_CHECK(again && *again == *duration);
    FUZZ_CHECK(units::format_duration(*again) == canonical);
  } else {
    FUZZ_CHECK(!duration.error.empty());
    FUZZ_CHECK(units::flag_error("--idle-timeout", text, duration.error).find("--idle-timeout") !=
               std::string::npos);
  }

  auto bytes = units::parse_size(text);
  if (bytes) {
    FUZZ_CHECK(*bytes <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    const std::string canonical = units::format_size(*bytes);
    auto again = units::parse_size(canonical);
    FUZZ_CHECK(again && *again == *bytes);
    FUZZ_CHECK(units::format_size(*again) == canonical);
  } else {
    FUZZ_CHECK(!bytes.error.empty());
  }
  return 0;
}
