// Walking the plan catalogue: to an empty page, one request per page of templates plus the
// empty page that ends it, stepping by what came back; complete only when it can vouch for
// what it lacks.
#include "sync/template_walk.h"

#include <gtest/gtest.h>

#include "api/page_parser.h"

using esim::PackageTemplate;
using esim::TemplatePage;
using esim::TemplateSource;

namespace {

// A catalogue in memory that answers at most `cap` per page, with a total that may lie.
class FakeTemplates : public TemplateSource {
 public:
  explicit FakeTemplates(int n, int cap = 1000) : cap_(cap) {
    for (int i = 0; i < n; ++i) ids.push_back(100 + i);
  }
  TemplatePage fetch_templates(std::int64_t offset, int count) override {
    ++requests;
    TemplatePage page;
    page.offset = offset;
    page.total = total_override >= 0 ? total_override : static_cast<std::int64_t>(ids.size());
    for (std::int64_t i = offset; i < static_cast<std::int64_t>(ids.size()) && i < offset + std::min(count, cap_); ++i) {
      const auto id = ids[static_cast<std::size_t>(i)];
      page.templates.push_back({id, "{\"id\":" + std::to_string(id) + "}"});
    }
    return page;
  }
  std::vector<std::int64_t> ids;
  std::int64_t total_override = -1;
  int requests = 0;

 private:
  int cap_;
};

}  // namespace

TEST(TemplateWalk, ReadsToAnEmptyPageWithOneRequestPerPageAndOneToEnd) {
  FakeTemplates source(250);
  auto listing = esim::walk_templates(source, 100);
  EXPECT_EQ(listing.templates.size(), 250u);
  EXPECT_EQ(source.requests, 4);  // 100, 100, 50, then the empty page
  EXPECT_TRUE(listing.complete);
}

TEST(TemplateWalk, StepsByWhatCameBackWhenTheServerCapsPages) {
  FakeTemplates source(45, 20);
  auto listing = esim::walk_templates(source, 100);
  EXPECT_EQ(listing.templates.size(), 45u);
  EXPECT_TRUE(listing.complete);
}

TEST(TemplateWalk, IncompleteWhenItCannotVouchForWhatItLacks) {
  FakeTemplates lying(10);
  lying.total_override = 12;  // fewer ids than the total said
  EXPECT_FALSE(esim::walk_templates(lying, 5).complete);
  FakeTemplates twice(10);
  twice.ids[7] = twice.ids[2];  // an id listed twice
  EXPECT_FALSE(esim::walk_templates(twice, 5).complete);
  FakeTemplates empty(0);  // silence proves nothing
  EXPECT_FALSE(esim::walk_templates(empty, 5).complete);
}

TEST(TemplateWalk, ACatalogueThatNeverEndsIsAnError) {
  class Endless : public TemplateSource {
    TemplatePage fetch_templates(std::int64_t offset, int) override {
      TemplatePage page;
      page.offset = offset;
      page.templates.push_back({offset, "{}"});
      return page;
    }
  } endless;
  EXPECT_THROW(esim::walk_templates(endless, 1, 50), esim::ApiError);
}

TEST(TemplateWalk, ADueWalkThatFailsLeavesAWarningAndNoListing) {
  class Failing : public TemplateSource {
    TemplatePage fetch_templates(std::int64_t, int) override { throw esim::ApiError("GET .../package-templates: HTTP 404", 404); }
  } failing;
  FakeTemplates fine(3);
  std::string warning;
  EXPECT_FALSE(esim::walk_templates_if_due({&failing, 100, 1}, 7, warning));
  EXPECT_NE(warning.find("the plan catalogue was not read: GET .../package-templates: HTTP 404"), std::string::npos);
  warning.clear();
  EXPECT_FALSE(esim::walk_templates_if_due({&fine, 100, 2}, 7, warning));  // not due: run 7, every 2
  EXPECT_TRUE(esim::walk_templates_if_due({&fine, 100, 2}, 8, warning));
  EXPECT_FALSE(esim::walk_templates_if_due({&fine, 100, 0}, 8, warning));  // switched off
  EXPECT_EQ(warning, "");
}

TEST(TemplatesPage, BothShapesAndIdsAsNumbers) {
  auto page = esim::parse_templates_page(
      R"({"total":2,"offset":0,"count":2,"package_templates":[{"id":7,"name":"A","price":1.5,"currency":"EUR"},)"
      R"({"id":"8","name":"B","status":"Not Active","supported_countries":["DEU"]}]})",
      0);
  ASSERT_EQ(page.templates.size(), 2u);
  EXPECT_EQ(page.total, 2);
  EXPECT_EQ(page.templates[1].id, 8);
  EXPECT_NE(page.templates[1].raw_json.find("\"id\":8"), std::string::npos);
  EXPECT_THROW(esim::parse_templates_page(R"({"package_templates":[{"name":"no id"}]})", 40), esim::PayloadError);
  EXPECT_THROW(esim::parse_templates_page(R"({"packages":[]})", 0), esim::PayloadError);
}
