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

TEST(Escape, ValidUtf8ReplacesWhatIsNotUtf8AndKeepsTheRest) {
  EXPECT_EQ(util::valid_utf8("plain \xC3\xBCn\xC3\xAF\xE2\x82\xAC\xF0\x9F\x98\x80"), "plain \xC3\xBCn\xC3\xAF\xE2\x82\xAC\xF0\x9F\x98\x80");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(util::valid_utf8("verf\xFCgbar"), "verf" + fffd + "gbar");  // Latin-1
  EXPECT_EQ(util::valid_utf8("cut \xD0"), "cut " + fffd);
  EXPECT_EQ(util::valid_utf8(std::string("nul\0!", 5)), "nul" + fffd + "!");
  EXPECT_EQ(util::valid_utf8("\xC0\xAF\xED\xA0\x80"), fffd + fffd + fffd + fffd + fffd);  // overlong, surrogate
}
