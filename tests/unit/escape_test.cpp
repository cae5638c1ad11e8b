#include "util/escape.h"

#include <gtest/gtest.h>

TEST(Escape, ControlCharactersNeverEndALine) {
  EXPECT_EQ(util::escape_control("X\"} 1\nforged 2\r\n# x\t\x01\x7f"), "X\"} 1\\nforged 2\\r\\n# x\\t\\x01\\x7f");
  EXPECT_EQ(util::escape_control("plain ünïcode"), "plain ünïcode");
}

TEST(Escape, PrometheusLabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(util::prometheus_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(util::prometheus_label_value("tab\there"), "tab\xEF\xBF\xBDhere");  // no escape the format lacks
}
