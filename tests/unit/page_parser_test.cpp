#include "api/page_parser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>

using esim::parse_packages_page;
using esim::PayloadError;

namespace {

// The problem text of a body that must be refused.
std::string refusal(const std::string& body, std::int64_t offset = 200) {
  try {
    parse_packages_page(body, offset);
  } catch (const PayloadError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(PageParser, ReadsTheDocumentedExample) {
  auto page = parse_packages_page(R"({"total":100,"offset":0,"count":1,"packages":[{"id":"pkg_123456",
    "sim":"89148000004012345678","package_template":21145354,"status":"ACTIVE",
    "created_date":1761330317000,"activated_date":1761330517000,"expiry_date":1763922517000}]})", 0);
  EXPECT_EQ(page.total, 100);
  ASSERT_EQ(page.packages.size(), 1u);
  const auto& p = page.packages[0];
  EXPECT_EQ(p.id, "pkg_123456");
  EXPECT_EQ(p.sim, "89148000004012345678");
  EXPECT_EQ(p.package_template, 21145354);
  EXPECT_EQ(p.status, "ACTIVE");
  EXPECT_EQ(p.created_date, 1761330317000);
  EXPECT_EQ(p.activated_date, 1761330517000);
  EXPECT_EQ(p.expiry_date, 1763922517000);
}

TEST(PageParser, TemplateMayBeAnObjectWithAnId) {
  auto page = parse_packages_page(
      R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","package_template":{"id":77,"name":"EU 5GB"}}]})", 0);
  EXPECT_EQ(page.packages[0].package_template, 77);
}

TEST(PageParser, AbsentAndNullDatesAreEmpty) {
  auto page = parse_packages_page(
      R"({"total":1,"packages":[{"id":"a","status":"NOT_ACTIVE","created_date":1,"activated_date":null}]})", 0);
  EXPECT_EQ(page.packages[0].created_date, 1);
  EXPECT_FALSE(page.packages[0].activated_date);
  EXPECT_FALSE(page.packages[0].expiry_date);
  EXPECT_FALSE(page.packages[0].sim);
}

TEST(PageParser, KeepsUnknownFieldsInRaw) {
  auto page = parse_packages_page(
      R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","data_usage_remaining":512,"window_activation_end":9}]})", 0);
  auto raw = nlohmann::json::parse(page.packages[0].raw_json);
  EXPECT_EQ(raw["data_usage_remaining"], 512);
  EXPECT_EQ(raw["window_activation_end"], 9);
}

TEST(PageParser, UndocumentedStatusIsKeptAsSent) {
  auto page = parse_packages_page(R"({"total":1,"packages":[{"id":"a","status":"EXPIRED"}]})", 0);
  EXPECT_EQ(page.packages[0].status, "EXPIRED");
  EXPECT_FALSE(esim::is_documented_status("EXPIRED"));
}

TEST(PageParser, WrongShapesNameTheOffsetAndTheProblem) {
  EXPECT_NE(refusal("{not json").find("page at offset 200: response is not valid JSON"), std::string::npos);
  EXPECT_NE(refusal(R"({"packages":[]})").find("page at offset 200: response has no \"total\""), std::string::npos);
  EXPECT_NE(refusal(R"({"total":"many","packages":[]})").find("\"total\" is not a non-negative integer"), std::string::npos);
  EXPECT_NE(refusal(R"({"total":1,"packages":{}})").find("\"packages\" is not an array"), std::string::npos);
  EXPECT_NE(refusal(R"({"total":1})").find("response has no \"packages\""), std::string::npos);
  EXPECT_NE(refusal(R"([1,2])").find("not a JSON object"), std::string::npos);
}

TEST(PageParser, PackageWithoutIdOrStatusIsRefused) {
  EXPECT_NE(refusal(R"({"total":2,"packages":[{"id":"a","status":"ACTIVE"},{"status":"ACTIVE"}]})")
                .find("page at offset 200: package #1 has no \"id\""),
            std::string::npos);
  EXPECT_NE(refusal(R"({"total":1,"packages":[{"id":"a"}]})").find("package #0 (id a) has no \"status\""),
            std::string::npos);
  EXPECT_NE(refusal(R"({"total":1,"packages":[{"id":5,"status":"ACTIVE"}]})").find("\"id\" that is not"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","created_date":"yesterday"}]})")
                .find("not epoch milliseconds"),
            std::string::npos);
}

namespace {

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& line : lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST(PageParser, NumbersBeyond64BitsAreNullWithAWarningNeverAWrap) {
  auto page = parse_packages_page(R"({"total":2,"packages":[
    {"id":"pkg_big","status":"ACTIVE","package_template":9223372036854775808,"expiry_date":18446744073709551615,
     "created_date":1e30,"activated_date":1761330517000,"data_usage_remaining":18446744073709551615},
    {"id":"pkg_obj","status":"ACTIVE","package_template":{"id":"99999999999999999999"}}]})", 0);
  ASSERT_EQ(page.packages.size(), 2u);
  const auto& p = page.packages[0];
  EXPECT_FALSE(p.package_template) << *p.package_template;
  EXPECT_FALSE(p.expiry_date) << *p.expiry_date;
  EXPECT_FALSE(p.created_date) << *p.created_date;
  EXPECT_EQ(p.activated_date, 1761330517000);
  EXPECT_FALSE(page.packages[1].package_template);
  // raw keeps the numbers as sent, exactly.
  EXPECT_NE(p.raw_json.find("\"data_usage_remaining\":18446744073709551615"), std::string::npos) << p.raw_json;
  EXPECT_NE(p.raw_json.find("\"package_template\":9223372036854775808"), std::string::npos) << p.raw_json;
  for (const char* field : {"\"package_template\"", "\"expiry_date\"", "\"created_date\""}) {
    EXPECT_TRUE(any_contains(page.warnings, std::string("package pkg_big: ") + field)) << field;
  }
  EXPECT_TRUE(any_contains(page.warnings, "package pkg_obj: \"package_template\"")) << page.warnings.size();
  EXPECT_EQ(page.warnings.size(), 4u);
}

// The store turns dates beyond timestamptz into infinities; the parser keeps the number and says so.
TEST(PageParser, LargestInt64DatesAreKeptAndNamedInAWarning) {
  auto page = parse_packages_page(R"({"total":1,"packages":[
    {"id":"a","status":"ACTIVE","expiry_date":9223372036854775807,"created_date":-300000000000000,
     "package_template":-9223372036854775808}]})", 0);
  EXPECT_EQ(page.packages[0].expiry_date, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(page.packages[0].created_date, -300000000000000);
  EXPECT_EQ(page.packages[0].package_template, std::numeric_limits<std::int64_t>::min());
  ASSERT_EQ(page.warnings.size(), 2u);
  EXPECT_NE(page.warnings[0].find("package a: \"created_date\" is -300000000000000, beyond what timestamptz holds; "
                                  "stored as -infinity"),
            std::string::npos) << page.warnings[0];
  EXPECT_NE(page.warnings[1].find("\"expiry_date\" is 9223372036854775807"), std::string::npos) << page.warnings[1];
}

TEST(PageParser, NulIsReplacedEverywhereAndNamedInAWarning) {
  auto page = parse_packages_page(R"({"total":1,"packages":[
    {"id":"pkg_\u0000nul","status":"ACT\u0000IVE","sim":"8914\u0000",
     "note":"a\u0000b","deep":{"k\u0000ey":[["x\u0000"]]}}]})", 0);
  const auto& p = page.packages[0];
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(p.id, "pkg_" + fffd + "nul");
  EXPECT_EQ(p.status, "ACT" + fffd + "IVE");
  EXPECT_EQ(p.sim, "8914" + fffd);
  EXPECT_EQ(p.raw_json.find("\\u0000"), std::string::npos) << p.raw_json;
  EXPECT_EQ(p.raw_json.find('\0'), std::string::npos);
  auto raw = nlohmann::json::parse(p.raw_json);
  EXPECT_EQ(raw["note"], "a" + fffd + "b");
  EXPECT_EQ(raw["deep"]["k" + fffd + "ey"][0][0], "x" + fffd);
  for (const char* field : {"\"id\"", "\"status\"", "\"sim\"", "\"note\"", "\"deep\""}) {
    EXPECT_TRUE(any_contains(page.warnings, std::string(": ") + field + " held \\u0000")) << field;
  }
  EXPECT_TRUE(any_contains(page.warnings, "package pkg_" + fffd + "nul:"));
}

TEST(PageParser, NestingIsBoundedWhileParsingAndNamesOffsetAndId) {
  // 64 levels inside a package are fine.
  auto ok = parse_packages_page(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","x":)" + nested_arrays(64) + "}]}", 0);
  EXPECT_EQ(ok.packages.size(), 1u);
  // 65 are not; nor are 200,000 (a 400 KB body that used to end in SIGSEGV).
  for (int depth : {65, 200000}) {
    std::string body = R"({"total":2,"packages":[{"id":"a","status":"ACTIVE"},{"id":"pkg_deep","status":"ACTIVE","x":)" +
                       nested_arrays(depth) + "}]}";
    std::string message = refusal(body, 300);
    EXPECT_NE(message.find("page at offset 300: package #1 (id pkg_deep) field \"x\" nests deeper than 64 levels"),
              std::string::npos)
        << message.substr(0, 300);
  }
  // Before the id: still the offset and the package's position.
  std::string message = refusal(R"({"total":1,"packages":[{"x":)" + nested_arrays(100000) + R"(,"id":"late"}]})", 0);
  EXPECT_NE(message.find("page at offset 0: package #0 field \"x\" nests deeper"), std::string::npos) << message;
  // Outside the packages as well.
  message = refusal(R"({"total":1,"meta":)" + nested_arrays(100000) + R"(,"packages":[]})", 0);
  EXPECT_NE(message.find("page at offset 0: response nests deeper"), std::string::npos) << message;
}

TEST(PageParser, ARepeatedPackagesKeyIsReadAsTheOneThatCounts) {
  // nlohmann keeps the last "packages"; the \u0000 in a key of that one must still be replaced.
  auto page = parse_packages_page(
      R"({"total":1,"packages":[{"id":"a","status":"ACTIVE"},{"id":"b","status":"ACTIVE"}],)"
      R"("packages":[{"id":"c","status":"ACTIVE","x":{"k\u0000":1}}]})", 0);
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_EQ(page.packages[0].raw_json.find("\\u0000"), std::string::npos) << page.packages[0].raw_json;
}

// Every byte is checked, unknown fields too: a raw span must never be the first thing broken
// that PostgreSQL's jsonb input meets.
TEST(PageParser, BrokenJsonInAnUnknownFieldFailsThePageNamingIt) {
  for (const char* broken : {R"("x":tru)", R"("x":01)", R"("x":"\q")", R"("x":[1,])", "\"x\":\"\xC0\xAF\""}) {
    const std::string body = std::string(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE",)") + broken + "}]}";
    EXPECT_NE(refusal(body, 700).find("page at offset 700: response is not valid JSON"), std::string::npos) << broken;
  }
}

// What valid JSON may hold and PostgreSQL cannot is replaced, with a warning naming the field;
// what PostgreSQL can hold is kept as sent.
TEST(PageParser, ValuesPostgresCannotStoreAreReplacedTheRestKeptAsSent) {
  auto page = parse_packages_page(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE",)"
                                  R"("big":1e400,"huge":1e200000,"tiny":[1e-20000],"lone":"x\ud800y","pair":"\ud83d\ude00"}]})",
                                  0);
  ASSERT_EQ(page.packages.size(), 1u);
  const std::string& raw = page.packages[0].raw_json;
  EXPECT_NE(raw.find(R"("big":1e400)"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("huge":null)"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("tiny":[null])"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("lone":"x\ufffdy")"), std::string::npos) << raw;
  EXPECT_NE(raw.find(R"("pair":"\ud83d\ude00")"), std::string::npos) << raw;
  EXPECT_TRUE(any_contains(page.warnings, "package a: \"huge\" held a number beyond what PostgreSQL's numeric holds"));
  EXPECT_TRUE(any_contains(page.warnings, "package a: \"tiny\" held a number beyond"));
  EXPECT_TRUE(any_contains(page.warnings, "package a: \"lone\" held an unpaired surrogate escape, replaced by U+FFFD"));
  EXPECT_EQ(page.warnings.size(), 3u);
}

// The raw JSON is the package's own text: key order, spacing and number formats as sent.
TEST(PageParser, RawIsThePackagesOwnText) {
  const std::string package = R"({ "status": "ACTIVE",  "created_date": 1761330317000.0, "id": "a" })";
  auto page = parse_packages_page(R"({"total":1,"packages":[)" + package + "]}", 0);
  EXPECT_EQ(page.packages[0].raw_json, package);
  EXPECT_EQ(page.packages[0].created_date, 1761330317000);
}

namespace {

// nlohmann refuses to write a string that is not UTF-8.
bool valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::string repeated(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

// Messages shorten long ids and values; a cut inside a multi-byte character would leave text
// that PostgreSQL refuses (the run's error could not be recorded) and that breaks JSON logs.
TEST(PageParser, ShortenedIdsAndValuesInMessagesStayUtf8) {
  const std::string long_id = "xy" + repeated("\xC3\xA9", 50);  // shown as 77 bytes: a cut inside a character
  std::string message = refusal(R"({"total":1,"packages":[{"id":")" + long_id + R"(","status":5}]})");
  EXPECT_NE(message.find("has \"status\" that is not"), std::string::npos) << message;
  EXPECT_TRUE(valid_utf8(message)) << message;

  const std::string long_value = "x" + repeated("\xC3\xA9", 50);  // "x... shown as 57 bytes: a cut inside too
  message = refusal(R"({"total":1,"packages":[")" + long_value + R"("]})");
  EXPECT_NE(message.find("is not an object"), std::string::npos) << message;
  EXPECT_TRUE(valid_utf8(message)) << message;

  auto page = parse_packages_page(R"({"total":1,"packages":[{"id":")" + long_id + R"(","status":"ACTIVE","n":"\u0000"}]})", 0);
  ASSERT_EQ(page.warnings.size(), 1u);
  EXPECT_TRUE(valid_utf8(page.warnings[0])) << page.warnings[0];
}

// id, status and sim are indexed by PostgreSQL (btree entries hold at most 2704 bytes): a longer
// one made the whole pass fail at the apply with "index row size ... exceeds btree version 4
// maximum", naming neither the page nor the package. An id or status that long is a wrong shape;
// a sim that long is an odd value, stored as NULL with a warning (raw keeps it).
TEST(PageParser, TextsTooLongForAnIndexAreRefusedOrNull) {
  const std::string longest(esim::kMaxIndexedTextBytes, 'x');
  const std::string longer = longest + "y";
  auto page = parse_packages_page(R"({"total":1,"packages":[{"id":")" + longest + R"(","status":")" + longest +
                                      R"(","sim":")" + longest + R"("}]})", 0);
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_EQ(page.packages[0].id, longest);
  EXPECT_EQ(page.packages[0].sim, longest);
  EXPECT_TRUE(page.warnings.empty());

  std::string message = refusal(R"({"total":2,"packages":[{"id":"a","status":"ACTIVE"},{"id":")" + longer +
                                R"(","status":"ACTIVE"}]})");
  EXPECT_NE(message.find("page at offset 200: package #1 (id xxx"), std::string::npos) << message;
  EXPECT_NE(message.find("has \"id\" of 2001 bytes, more than 2000"), std::string::npos) << message;
  message = refusal(R"({"total":1,"packages":[{"id":"a","status":")" + longer + R"("}]})");
  EXPECT_NE(message.find("package #0 (id a) has \"status\" of 2001 bytes"), std::string::npos) << message;

  page = parse_packages_page(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","sim":")" + longer + R"("}]})", 0);
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_FALSE(page.packages[0].sim);
  EXPECT_NE(page.packages[0].raw_json.find(longer), std::string::npos);
  ASSERT_EQ(page.warnings.size(), 1u);
  EXPECT_NE(page.warnings[0].find("package a: \"sim\" of 2001 bytes, more than 2000; stored as NULL"),
            std::string::npos) << page.warnings[0];
}

// RFC 8259 lets a parser ignore a byte order mark before the text, and the parser before this one
// (nlohmann's) did: a server that sends one must not fail every pass.
TEST(PageParser, ALeadingByteOrderMarkIsIgnored) {
  auto page = parse_packages_page("\xEF\xBB\xBF" R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","n":"\u0000"}]})", 0);
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_EQ(page.packages[0].raw_json, R"({"id":"a","status":"ACTIVE","n":"\ufffd"})");
  EXPECT_NE(refusal("\xEF\xBB\xBF\xEF\xBB\xBF{}").find("not valid JSON"), std::string::npos);
}

// A package whose every field holds \u0000: each field was named in a warning of its own, found
// by a linear search of those already named, so 100,000 such fields (1.8 MB) took seconds to
// parse (minutes for a few MB) and logged 100,000 lines every pass. A few are named, the rest
// counted.
TEST(PageParser, ManyOddFieldsInOnePackageAreWarnedOfBoundedlyAndQuickly) {
  std::string body = R"({"total":1,"packages":[{"id":"a","status":"ACTIVE")";
  for (int i = 0; i < 100000; ++i) body += ",\"f" + std::to_string(i) + "\":\"\\u0000\"";
  body += "}]}";
  const auto started = std::chrono::steady_clock::now();
  auto page = parse_packages_page(body, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_EQ(page.packages[0].raw_json.find("\\u0000"), std::string::npos);
  EXPECT_LE(page.warnings.size(), 11u);
  EXPECT_TRUE(any_contains(page.warnings, "package a: \"f0\" held \\u0000"));
  EXPECT_TRUE(any_contains(page.warnings, "package a: 99990 more odd values"));
}

// A number PostgreSQL cannot hold is null in raw, and so in its typed column: never 1970.
TEST(PageParser, ADateBeyondNumericIsNullNotZero) {
  auto page = parse_packages_page(R"({"total":1,"packages":[{"id":"a","status":"ACTIVE","created_date":0e1073741823}]})", 0);
  ASSERT_EQ(page.packages.size(), 1u);
  EXPECT_FALSE(page.packages[0].created_date) << *page.packages[0].created_date;
  EXPECT_NE(page.packages[0].raw_json.find(R"("created_date":null)"), std::string::npos) << page.packages[0].raw_json;
  EXPECT_TRUE(any_contains(page.warnings, "\"created_date\" held a number beyond what PostgreSQL's numeric holds"));
}
