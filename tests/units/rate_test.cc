// "RATE[,BURST]" rates (units/rate.h): the grammar shared by reactord's --rate-limit-* flags
// and `reactorctl ratelimit`.
#include "units/rate.h"

#include <gtest/gtest.h>

namespace reactord::units {
namespace {

TEST(Rate, ParsesRateAndOptionalBurst) {
  auto r = parse_rate("256KiB");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->bytes_per_second, 256u * 1024);
  EXPECT_EQ((*r)->burst, 256u * 1024);
  auto rb = parse_rate("1M,4M");
  ASSERT_TRUE(rb);
  EXPECT_EQ(**rb, (Rate{1u << 20, 4u << 20}));
  auto off = parse_rate("off");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->has_value());
  EXPECT_EQ(**parse_rate("100"), (Rate{100, 100}));
}

TEST(Rate, RefusesWhatABucketCannotDo) {
  EXPECT_NE(parse_rate("").error, "");
  EXPECT_NE(parse_rate("9").error.find("at least 10"), std::string::npos);
  EXPECT_NE(parse_rate("17G").error.find("at most"), std::string::npos);
  EXPECT_NE(parse_rate("1M,100K").error.find("a tenth"), std::string::npos) << parse_rate("1M,100K").error;
  EXPECT_TRUE(parse_rate("1M,103K")) << "a tenth of 1MiB is 104857 bytes: 103KiB (105472) holds it";
  EXPECT_FALSE(parse_rate("1M,2G"));
  EXPECT_FALSE(parse_rate("1MB"));
  EXPECT_FALSE(parse_rate("1M,x"));
  EXPECT_FALSE(parse_rate("OFF"));
}

TEST(Rate, FormatsBackToWhatItParses) {
  for (const char* text : {"off", "256KiB", "1MiB,4MiB", "100"}) {
    auto r = parse_rate(text);
    ASSERT_TRUE(r) << text;
    EXPECT_EQ(format_rate(*r), text);
  }
}

}  // namespace
}  // namespace reactord::units
