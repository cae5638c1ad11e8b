// The stable fingerprint tells "only volatile fields changed" from a change that makes a
// version, from the page parser's spans alone: no JSON work in PostgreSQL for either.
#include <gtest/gtest.h>

#include "api/page_parser.h"
#include "domain/package.h"
#include "store/fingerprint.h"

using esim::parse_packages_page;
using esim::stable_fingerprint_uuid;

namespace {

esim::Package one(const std::string& package, const std::vector<std::string>& volatile_fields = esim::usage_counter_fields()) {
  auto page = parse_packages_page(R"({"total":1,"packages":[)" + package + "]}", 0, volatile_fields);
  EXPECT_EQ(page.packages.size(), 1u);
  return page.packages.at(0);
}

std::string stable(const esim::Package& p) { return stable_fingerprint_uuid(p.raw_json, p.volatile_spans); }

}  // namespace

TEST(StableFingerprint, CountersAreTypedAndTheirChangesAloneKeepIt) {
  const auto before = one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":5000, "voice_usage_remaining":12,"sms_usage_remaining":3})");
  const auto after = one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":49, "voice_usage_remaining":12,"sms_usage_remaining":0})");
  EXPECT_EQ(before.data_usage_remaining, 5000);
  EXPECT_EQ(before.voice_usage_remaining, 12);
  EXPECT_EQ(after.sms_usage_remaining, 0);
  EXPECT_EQ(before.volatile_spans.size(), 3u);
  EXPECT_EQ(stable(before), stable(after));
  EXPECT_NE(esim::fingerprint_uuid(before.raw_json), esim::fingerprint_uuid(after.raw_json));
}

TEST(StableFingerprint, AnyOtherChangeMovesIt) {
  const auto base = stable(one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":5000,"time_allowance":"7d"})"));
  for (const char* other : {R"({"id":"a","status":"TERMINATED","data_usage_remaining":5000,"time_allowance":"7d"})",
                            R"({"id":"a","status":"ACTIVE","data_usage_remaining":5000,"time_allowance":"8d"})",
                            R"({"id":"a","status":"ACTIVE","data_usage_remaining":5000})",
                            R"({"id":"a","status":"ACTIVE","time_allowance":"7d"})",
                            R"({"id":"a","status":"ACTIVE","data_usage_remaining":5000,"time_allowance":"7d","x":1})"}) {
    EXPECT_NE(stable(one(other)), base) << other;
  }
  // Not volatile when not listed: then every counter change is a change.
  EXPECT_NE(stable(one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":1})", {})),
            stable(one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":2})", {})));
}

TEST(StableFingerprint, OddCountersAreAbsentInTheTypedColumnsAndRawKeepsThem) {
  const auto p = one(R"({"id":"a","status":"ACTIVE","data_usage_remaining":18446744073709551615,"voice_usage_remaining":"9","sms_usage_remaining":2.0})");
  EXPECT_FALSE(p.data_usage_remaining);
  EXPECT_FALSE(p.voice_usage_remaining);
  EXPECT_EQ(p.sms_usage_remaining, 2);
  EXPECT_NE(p.raw_json.find("18446744073709551615"), std::string::npos);
}
