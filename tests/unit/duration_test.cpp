#include "util/duration.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using util::format_duration;
using util::parse_duration;

TEST(Duration, ReadsEachUnitAndCombinations) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::milliseconds(30s));
  EXPECT_EQ(parse_duration("15m"), std::chrono::milliseconds(15min));
  EXPECT_EQ(parse_duration("2h"), std::chrono::milliseconds(2h));
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1h30m"), std::chrono::milliseconds(90min));
}

TEST(Duration, RejectsWhatCouldBeMisread) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("30"));   // seconds or minutes? refuse to guess
  EXPECT_FALSE(parse_duration("5 m"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("1.5h"));
  EXPECT_FALSE(parse_duration("10d"));
  EXPECT_FALSE(parse_duration("99999999999999999999h"));
}

TEST(Duration, FormatsBackToWhatItReads) {
  for (auto value : {0ms, 250ms, std::chrono::milliseconds(90min), std::chrono::milliseconds(3723s)}) {
    EXPECT_EQ(parse_duration(format_duration(value)), value) << format_duration(value);
  }
  EXPECT_EQ(format_duration(std::chrono::milliseconds(15min)), "15m");
}
