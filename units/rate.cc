// "RATE[,BURST]" rates (rate.h) on top of the size grammar of units.h.
#include "units/rate.h"

namespace reactord::units {

std::optional<std::string> check_rate(std::uint64_t bytes_per_second, std::uint64_t burst) {
  if (bytes_per_second < kMinRate) return std::string("the rate must be at least 10 bytes/s");
  if (bytes_per_second > kMaxRate) return std::string("the rate must be at most 16GiB/s");
  if (burst > kMaxBurst) return std::string("the burst must be below 2GiB");
  if (burst < bytes_per_second / 10) {
    return "the burst must hold at least a tenth of the rate (" + format_size(bytes_per_second / 10) +
           ", one 100ms tick)";
  }
  return std::nullopt;
}

Parsed<std::optional<Rate>> parse_rate(std::string_view text) {
  Parsed<std::optional<Rate>> out;
  if (text == "off") {
    out.value.emplace();
    return out;
  }
  const std::size_t comma = text.find(',');
  const std::string_view rate_text = text.substr(0, comma);
  auto rate = parse_size(rate_text);
  if (!rate) {
    out.error = rate_text.empty() ? std::string("expected RATE[,BURST] in bytes/s (256KiB, 1M,4M) or off")
                                  : rate.error;
    return out;
  }
  std::uint64_t burst = *rate;
  if (comma != std::string_view::npos) {
    auto parsed_burst = parse_size(text.substr(comma + 1));
    if (!parsed_burst) {
      out.error = "burst: " + parsed_burst.error;
      return out;
    }
    burst = *parsed_burst;
  }
  if (auto error = check_rate(*rate, burst)) {
    out.error = *error;
    return out;
  }
  out.value = std::optional<Rate>(Rate{*rate, burst});
  return out;
}

std::string format_rate(const std::optional<Rate>& rate) {
  if (!rate) return "off";
  std::string text = format_size(rate->bytes_per_second);
  if (rate->burst != rate->bytes_per_second) text += "," + format_size(rate->burst);
  return text;
}

}  // namespace reactord::units
