#include "util/size.h"

#include <gtest/gtest.h>

TEST(Size, ReadsBinaryAndDecimalUnits) {
  EXPECT_EQ(util::parse_size("4096"), 4096u);
  EXPECT_EQ(util::parse_size("10B"), 10u);
  EXPECT_EQ(util::parse_size("2KB"), 2000u);
  EXPECT_EQ(util::parse_size("64MiB"), 64u << 20);
  EXPECT_EQ(util::parse_size("1GiB"), 1u << 30);
  EXPECT_FALSE(util::parse_size(""));
  EXPECT_FALSE(util::parse_size("MiB"));
  EXPECT_FALSE(util::parse_size("1.5MiB"));
  EXPECT_FALSE(util::parse_size("12 MiB"));
  EXPECT_FALSE(util::parse_size("99999999999999999999GiB"));
  EXPECT_EQ(util::format_size(64u << 20), "64MiB");
  EXPECT_EQ(util::format_size(1000), "1000B");
}
