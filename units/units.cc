#include "units/units.h"

#include "units/text.h"

#include <cctype>
#include <charconv>

namespace reactord::units {

namespace {

using u128 = unsigned __int128;

constexpr std::uint64_t kMaxDurationUs = 87600ull * 3600 * 1000000;  // 10 years
constexpr std::uint64_t kMaxSize = 0x7fffffffffffffffull;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number "12", "1.5" at the front of `text` as whole / 10^scale_digits; consumed
// from text. False if there is none or it is malformed ("1.", ".5", "1..2", too many digits).
bool take_number(std::string_view& text, u128& mantissa, unsigned& fraction_digits) {
  std::size_t i = 0;
  mantissa = 0;
  fraction_digits = 0;
  while (i < text.size() && is_digit(text[i])) {
    if (i >= 19) return false;
    mantissa = mantissa * 10 + static_cast<unsigned>(text[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) {
      if (i - start >= 12) return false;
      mantissa = mantissa * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    if (i == start) return false;
    fraction_digits = static_cast<unsigned>(i - start);
  }
  text.remove_prefix(i);
  return true;
}

u128 pow10(unsigned n) {
  u128 p = 1;
  while (n--) p *= 10;
  return p;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

struct DurationUnit {
  std::string_view name;
  std::uint64_t us;
};
// Largest first: terms must follow this order.
constexpr DurationUnit kDurationUnits[] = {
    {"h", 3600ull * 1000000}, {"m", 60ull * 1000000}, {"s", 1000000}, {"ms", 1000}, {"us", 1}};

struct SizeUnit {
  std::string_view name;
  std::uint64_t bytes;
};
constexpr SizeUnit kSizeUnits[] = {
    {"", 1},
    {"B", 1},
    {"K", 1ull << 10},
    {"k", 1ull << 10},
    {"KiB", 1ull << 10},
    {"M", 1ull << 20},
    {"m", 1ull << 20},
    {"MiB", 1ull << 20},
    {"G", 1ull << 30},
    {"g", 1ull << 30},
    {"GiB", 1ull << 30},
    {"T", 1ull << 40},
    {"t", 1ull << 40},
    {"TiB", 1ull << 40},
};

}  // namespace

Parsed<std::chrono::microseconds> parse_duration(std::string_view raw) {
  std::string_view text = text::trim(raw);
  auto fail = [&](std::string why) {
    return Parsed<std::chrono::microseconds>{std::nullopt, std::move(why)};
  };
  if (text.empty()) return fail("empty duration: write e.g. 500ms, 30s, 2m, 1h");
  if (text == "0") return {std::chrono::microseconds(0), {}};
  if (text.front() == '-') return fail("a duration cannot be negative");
  constexpr const char* kUnits = "use h, m, s, ms or us (e.g. 500ms, 30s, 1h30m)";
  u128 total = 0;
  std::size_t next_unit = 0;  // index into kDurationUnits: terms go largest unit first
  std::string_view rest = text;
  while (!rest.empty()) {
    u128 mantissa = 0;
    unsigned fraction = 0;
    if (!take_number(rest, mantissa, fraction)) {
      return fail(quoted(text) + " is not a duration: " + kUnits);
    }
    std::size_t n = 0;
    while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n]))) ++n;
    std::string_view unit = rest.substr(0, n);
    rest.remove_prefix(n);
    if (unit.empty()) {
      if (rest.empty() && total == 0 && next_unit == 0) {
        std::string number(text);
        std::string message = quoted(text);
        message.append(" has no unit: write ").append(number).append("s, ").append(number).append("ms, ");
        message.append(number).append("m, ").append(number).append("h or ").append(number).append("us");
        return fail(message);
      }
      return fail(quoted(text) + " is not a duration: " + kUnits);
    }
    std::size_t u = 0;
    while (u < std::size(kDurationUnits) && kDurationUnits[u].name != unit) ++u;
    if (u == std::size(kDurationUnits)) {
      return fail("unknown unit '" + std::string(unit) + "' in " + quoted(text) + ": " + kUnits);
    }
    if (u < next_unit) {
      return fail(quoted(text) + ": units must go from largest to smallest, each once (e.g. 1h30m)");
    }
    next_unit = u + 1;
    u128 scaled = mantissa * kDurationUnits[u].us;
    u128 divisor = pow10(fraction);
    if (scaled % divisor != 0) return fail(quoted(text) + " is finer than a microsecond");
    total += scaled / divisor;
    if (total > kMaxDurationUs) return fail(quoted(text) + " is too long (at most 87600h)");
  }
  return {std::chrono::microseconds(static_cast<std::int64_t>(total)), {}};
}

Parsed<std::uint64_t> parse_size(std::string_view raw) {
  std::string_view text = text::trim(raw);
  auto fail = [&](std::string why) { return Parsed<std::uint64_t>{std::nullopt, std::move(why)}; };
  constexpr const char* kUnits =
      "write bytes, or K, M, G, T (KiB, MiB, ...: powers of 1024), e.g. 65536, 64K, 1.5MiB";
  if (text.empty()) return fail(std::string("empty size: ") + kUnits);
  if (text.front() == '-') return fail("a size cannot be negative");
  std::string_view rest = text;
  u128 mantissa = 0;
  unsigned fraction = 0;
  if (!take_number(rest, mantissa, fraction)) return fail(quoted(text) + " is not a size: " + kUnits);
  std::string_view unit = rest;
  const SizeUnit* found = nullptr;
  for (const auto& u : kSizeUnits) {
    if (u.name == unit) found = &u;
  }
  if (!found) {
    if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b') &&
        std::string_view("kKmMgGtT").find(unit[0]) != std::string_view::npos) {
      std::string number(text.substr(0, text.size() - 2));
      return fail(quoted(text) + " is ambiguous (1000 or 1024?): write " + number + unit[0] +
                  "iB for powers of 1024, or the number of bytes");
    }
    return fail("unknown unit '" + std::string(unit) + "' in " + quoted(text) + ": " + kUnits);
  }
  u128 scaled = mantissa * found->bytes;
  u128 divisor = pow10(fraction);
  if (scaled % divisor != 0) return fail(quoted(text) + " is not a whole number of bytes");
  u128 bytes = scaled / divisor;
  if (bytes > kMaxSize) return fail(quoted(text) + " is too large");
  return {static_cast<std::uint64_t>(bytes), {}};
}

std::string format_duration(std::chrono::microseconds d) {
  std::int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  auto left = static_cast<std::uint64_t>(us);
  // Not whole seconds: one term in ms or us ("1500ms" reads better than "1s500ms").
  if (left % 1000000 != 0) {
    return out + (left % 1000 == 0 ? std::to_string(left / 1000) + "ms" : std::to_string(left) + "us");
  }
  for (const auto& u : kDurationUnits) {
    if (u.us < 1000000) break;
    if (left >= u.us) {
      out += std::to_string(left / u.us) + std::string(u.name);
      left %= u.us;
    }
  }
  return out;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr SizeUnit kExact[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  for (const auto& u : kExact) {
    if (bytes >= u.bytes && bytes % u.bytes == 0)
      return std::to_string(bytes / u.bytes) + std::string(u.name);
  }
  return std::to_string(bytes);
}

std::string flag_error(std::string_view flag, std::string_view text, const std::string& error) {
  return "invalid " + std::string(flag) + " '" + std::string(text) + "': " + error;
}

}  // namespace reactord::units
