// Log fields: scoped to their thread, nested, removed with their scope, written as JSON.
#include "util/log_fields.h"

#include <gtest/gtest.h>

#include <thread>

using util::LogFields;

TEST(LogFields, ScopesNestAndTakeTheirFieldsAwayWhenTheyEnd) {
  EXPECT_EQ(LogFields::current_json(), "");
  {
    LogFields run{{"run_id", 12}};
    EXPECT_EQ(LogFields::current_json(), R"(,"run_id":12)");
    {
      LogFields inner;
      inner.add("phase", std::string("walk")).add("pages", -3);
      EXPECT_EQ(LogFields::current_json(), R"(,"run_id":12,"phase":"walk","pages":-3)");
    }
    EXPECT_EQ(LogFields::current_json(), R"(,"run_id":12)");
  }
  EXPECT_EQ(LogFields::current_json(), "");
}

TEST(LogFields, StringsAreEscapedForJson) {
  LogFields fields;
  fields.add("error", std::string("say \"no\" \\ then\nstop\t\x01"));
  // A tab as \t, as the JSON log format writes it: one escaper for both (util::append_json_string_body).
  EXPECT_EQ(LogFields::current_json(), R"(,"error":"say \"no\" \\ then\nstop\t\u0001")");
}

TEST(LogFields, AnotherThreadDoesNotSeeThem) {
  LogFields fields{{"run_id", 7}};
  std::string seen = "unset";
  std::thread([&] { seen = LogFields::current_json(); }).join();
  EXPECT_EQ(seen, "");
  EXPECT_EQ(LogFields::current_json(), R"(,"run_id":7)");
}
