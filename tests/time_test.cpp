#include "sim/time.hpp"

#include <gtest/gtest.h>

using namespace vcpusim::sim;

TEST(Time, ParsesDurationsExactly) {
  EXPECT_EQ(parse_duration("4ms"), 4 * kMillisecond);
  EXPECT_EQ(parse_duration("250ns"), 250 * kNanosecond);
  EXPECT_EQ(parse_duration("1.5us"), 1500 * kNanosecond);
  EXPECT_EQ(parse_duration("0.001ns"), 1);
  EXPECT_EQ(parse_duration("2s"), 2 * kSecond);
  EXPECT_FALSE(parse_duration("0.0001ns"));  // below one picosecond
  EXPECT_FALSE(parse_duration("4"));
  EXPECT_FALSE(parse_duration("4 ms"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration("1.2.3ms"));
  EXPECT_FALSE(parse_duration("-1ms"));
  EXPECT_FALSE(parse_duration("99999999999s"));
}

TEST(Time, ParsesFrequencies) {
  EXPECT_EQ(parse_frequency("2.5GHz"), 2500000000LL);
  EXPECT_EQ(parse_frequency("100MHz"), 100000000LL);
  EXPECT_FALSE(parse_frequency("2.5"));
  EXPECT_FALSE(parse_frequency("1.5Hz"));
}

TEST(Time, FormatsRoundTrip) {
  for (Tick t :
       {Tick{1}, 1500 * kNanosecond, 4 * kMillisecond, 1234567 * kPicosecond, 3 * kSecond}) {
    const std::string s = format_duration(t);
    ASSERT_EQ(parse_duration(s), t) << s;
  }
  EXPECT_EQ(format_duration(4 * kMillisecond), "4ms");
  EXPECT_EQ(format_duration(1500 * kNanosecond), "1.5us");
  EXPECT_EQ(format_frequency(2500000000LL), "2.5GHz");
}

// The one rule for printed times: largest unit with a whole part, exact, and it parses back.
TEST(Time, FormatTimeUsesTheLargestUnitExactlyAndParsesBack) {
  using namespace vcpusim::sim;
  EXPECT_EQ(format_time(34008663 * kNanosecond), "34.008663ms");
  EXPECT_EQ(format_time(34008060 * kNanosecond), "34.00806ms");
  EXPECT_EQ(format_time(14403 * kNanosecond), "14.403us");
  EXPECT_EQ(format_time(527 * kNanosecond), "527ns");
  EXPECT_EQ(format_time(1500), "1.5ns");
  EXPECT_EQ(format_time(7), "7ps");
  EXPECT_EQ(format_time(0), "0ns");
  EXPECT_EQ(format_time(-2 * kSecond), "-2s");
  for (Tick t : {Tick{1}, Tick{999}, 34008663 * kNanosecond, 250 * kMillisecond + 1, kSecond * 3 + 5})
    EXPECT_EQ(parse_duration(format_time(t)), t) << format_time(t);
}
