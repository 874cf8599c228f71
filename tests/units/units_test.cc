// The one duration/size grammar (units/units.h): what is accepted, what each value means, and
// that every refusal says why.
#include "units/units.h"

#include <gtest/gtest.h>

namespace reactord::units {
namespace {

using namespace std::chrono_literals;

std::chrono::microseconds duration(const char* text) {
  auto p = parse_duration(text);
  EXPECT_TRUE(p) << text << ": " << p.error;
  return p.value.value_or(-1us);
}

std::string duration_error(const char* text) {
  auto p = parse_duration(text);
  EXPECT_FALSE(p) << text << " parsed as " << p.value.value_or(0us).count() << "us";
  EXPECT_FALSE(p.error.empty()) << text;
  return p.error;
}

std::uint64_t size(const char* text) {
  auto p = parse_size(text);
  EXPECT_TRUE(p) << text << ": " << p.error;
  return p.value.value_or(~0ull);
}

std::string size_error(const char* text) {
  auto p = parse_size(text);
  EXPECT_FALSE(p) << text << " parsed as " << p.value.value_or(0);
  EXPECT_FALSE(p.error.empty()) << text;
  return p.error;
}

TEST(Units, DurationsWithEachUnit) {
  EXPECT_EQ(duration("250us"), 250us);
  EXPECT_EQ(duration("500ms"), 500ms);
  EXPECT_EQ(duration("30s"), 30s);
  EXPECT_EQ(duration("2m"), 2min);
  EXPECT_EQ(duration("1h"), 1h);
  EXPECT_EQ(duration("0"), 0us);
  EXPECT_EQ(duration("0s"), 0us);
  EXPECT_EQ(duration(" 5s "), 5s);  // surrounding blanks (environment variables)
}

TEST(Units, DurationFractionsAndCompounds) {
  EXPECT_EQ(duration("1.5s"), 1500ms);
  EXPECT_EQ(duration("1.5h"), 90min);
  EXPECT_EQ(duration("0.25ms"), 250us);
  EXPECT_EQ(duration("1h30m"), 90min);
  EXPECT_EQ(duration("1m30s"), 90s);
  EXPECT_EQ(duration("2h3m4s5ms6us"), 2h + 3min + 4s + 5ms + 6us);
  EXPECT_EQ(duration("87600h"), 87600h);
}

TEST(Units, DurationRejectsAmbiguousAndMalformedInput) {
  EXPECT_NE(duration_error("5").find("has no unit: write 5s, 5ms"), std::string::npos);
  EXPECT_NE(duration_error("1.5").find("has no unit"), std::string::npos);
  EXPECT_NE(duration_error("-1s").find("negative"), std::string::npos);
  EXPECT_NE(duration_error("1x").find("unknown unit 'x'"), std::string::npos);
  EXPECT_NE(duration_error("5S").find("unknown unit 'S'"), std::string::npos);
  EXPECT_NE(duration_error("1min").find("unknown unit 'min'"), std::string::npos);
  EXPECT_NE(duration_error("1.5K").find("unknown unit 'K'"), std::string::npos);
  EXPECT_NE(duration_error("1s1h").find("largest to smallest"), std::string::npos);
  EXPECT_NE(duration_error("1s1s").find("largest to smallest"), std::string::npos);
  EXPECT_NE(duration_error("0.5us").find("finer than a microsecond"), std::string::npos);
  EXPECT_NE(duration_error("87601h").find("too long"), std::string::npos);
  EXPECT_NE(duration_error("").find("empty"), std::string::npos);
  for (const char* bad : {"s", "ms5", "1..2s", ".5s", "1.s", "1 s", "1s 2ms", "1e3s", "+1s", "0x10s", "1s5",
                          "99999999999999999999h", "NaNs", "infs"}) {
    duration_error(bad);
  }
}

TEST(Units, SizesArePowersOf1024) {
  EXPECT_EQ(size("0"), 0u);
  EXPECT_EQ(size("65536"), 65536u);
  EXPECT_EQ(size("100B"), 100u);
  EXPECT_EQ(size("64K"), 65536u);
  EXPECT_EQ(size("64k"), 65536u);
  EXPECT_EQ(size("64KiB"), 65536u);
  EXPECT_EQ(size("1.5K"), 1536u);
  EXPECT_EQ(size("1M"), 1048576u);
  EXPECT_EQ(size("1m"), 1048576u);
  EXPECT_EQ(size("1.5MiB"), 1572864u);
  EXPECT_EQ(size("2GiB"), 2147483648u);
  EXPECT_EQ(size("1T"), 1ull << 40);
  EXPECT_EQ(size("1TiB"), 1ull << 40);
}

TEST(Units, SizeRejectsAmbiguousAndMalformedInput) {
  EXPECT_NE(size_error("64KB").find("ambiguous (1000 or 1024?): write 64KiB"), std::string::npos);
  EXPECT_NE(size_error("1MB").find("ambiguous"), std::string::npos);
  EXPECT_NE(size_error("1kb").find("ambiguous"), std::string::npos);
  EXPECT_NE(size_error("1.3").find("whole number of bytes"), std::string::npos);
  EXPECT_NE(size_error("1.1K").find("whole number of bytes"), std::string::npos);
  EXPECT_NE(size_error("-5").find("negative"), std::string::npos);
  EXPECT_NE(size_error("5s").find("unknown unit 's'"), std::string::npos);
  EXPECT_NE(size_error("8388608T").find("too large"), std::string::npos);
  for (const char* bad : {"", "KiB", "12 apples", "1 K", "1Ki", "1kib", "1PiB", "0x10", "1e6"}) {
    size_error(bad);
  }
}

TEST(Units, FormatParsesBackToTheSameValue) {
  EXPECT_EQ(format_duration(0us), "0s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(250us), "250us");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(90min), "1h30m");
  for (std::chrono::microseconds d :
       {0us, 1us, 999us, 1000us, 1500000us, 59000000us, 61000000us, 3601000000us, 129601000000us}) {
    EXPECT_EQ(*parse_duration(format_duration(d)), d) << format_duration(d);
  }
  EXPECT_EQ(format_size(65536), "64KiB");
  EXPECT_EQ(format_size(1048576), "1MiB");
  EXPECT_EQ(format_size(1000), "1000");
  for (std::uint64_t b : {0ull, 1ull, 1023ull, 1024ull, 1536ull, 1ull << 30, 3ull << 40}) {
    EXPECT_EQ(*parse_size(format_size(b)), b) << format_size(b);
  }
}

TEST(Units, FlagErrorNamesTheFlagAndTheValue) {
  EXPECT_EQ(flag_error("--timeout", "5", parse_duration("5").error),
            "invalid --timeout '5': '5' has no unit: write 5s, 5ms, 5m, 5h or 5us");
}

}  // namespace
}  // namespace reactord::units
