#include "api/page_parser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
