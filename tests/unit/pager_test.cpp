#include "api/pager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "fakes.h"

using esim::Pager;
using esim::fakes::FakePageSource;
using esim::fakes::package;

namespace {

FakePageSource listing_of(int n) {
  FakePageSource source;
  for (int i = 0; i < n; ++i) source.listing.push_back(package("pkg_" + std::to_string(i)));
  return source;
}

}  // namespace

TEST(Pager, VisitsEveryPackageOnceAndStopsAtTotal) {
  FakePageSource source = listing_of(250);
  std::vector<std::string> seen;
  auto result = Pager(source, 100).run([&](const esim::Page& p) {
    for (const auto& pkg : p.packages) seen.push_back(pkg.id);
  });
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(result.pages, 3);
  EXPECT_TRUE(result.complete);
  ASSERT_EQ(source.asked.size(), 3u);
  EXPECT_EQ(source.asked[2].first, 200);
  EXPECT_EQ(source.asked[2].second, 100);
}

TEST(Pager, AdvancesByWhatTheServerReturnedNotWhatWasAsked) {
  FakePageSource source = listing_of(100);
  source.max_per_page = 30;  // the server caps pages below our page_size
  std::size_t seen = 0;
  auto result = Pager(source, 100).run([&](const esim::Page& p) { seen += p.packages.size(); });
  EXPECT_EQ(seen, 100u);
  EXPECT_EQ(source.asked[1].first, 30);
  EXPECT_EQ(result.pages, 4);
  EXPECT_TRUE(result.complete);
}

TEST(Pager, EmptyListingIsOneRequestAndComplete) {
  FakePageSource source;
  auto result = Pager(source, 100).run([](const esim::Page&) {});
  EXPECT_EQ(source.asked.size(), 1u);
  EXPECT_TRUE(result.complete);
}

TEST(Pager, EmptyPageBeforeTotalEndsThePassAsIncomplete) {
  // A server whose total lags behind its listing: it claims 150 but serves only 100.
  struct LaggingTotal : FakePageSource {
    esim::Page fetch_page(std::int64_t offset, int count) override {
      esim::Page p = FakePageSource::fetch_page(offset, count);
      p.total = 150;
      return p;
    }
  } lagging;
  lagging.listing = listing_of(100).listing;
  auto result = Pager(lagging, 100).run([](const esim::Page&) {});
  EXPECT_FALSE(result.complete);
  EXPECT_NE(result.incomplete_reason.find("empty page came back at offset 100"), std::string::npos);
}

TEST(Pager, TotalMovingDuringThePassMakesItIncomplete) {
  FakePageSource source = listing_of(300);
  source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 2) s.listing.insert(s.listing.begin(), package("pkg_new"));
  };
  auto result = Pager(source, 100).run([](const esim::Page&) {});
  EXPECT_FALSE(result.complete);
  EXPECT_NE(result.incomplete_reason.find("total moved from 300 to 301"), std::string::npos);
}

TEST(Pager, ListingThatGrowsForeverIsAnErrorNotAnEndlessLoop) {
  FakePageSource source = listing_of(10);
  source.before_page = [](FakePageSource& s) {
    for (int i = 0; i < 20; ++i) s.listing.push_back(package("grow_" + std::to_string(s.listing.size())));
  };
  EXPECT_THROW(Pager(source, 10).run([](const esim::Page&) {}), std::runtime_error);
  EXPECT_LT(source.asked.size(), 1000u);
}

TEST(Pager, ErrorsPropagateSoThePassCanFail) {
  FakePageSource source = listing_of(300);
  source.fail_at_offset = 200;
  EXPECT_THROW(Pager(source, 100).run([](const esim::Page&) {}), esim::ApiError);
}

TEST(ConcurrentPager, VisitsEveryPackageOnceWhateverTheArrivalOrder) {
  FakePageSource source = listing_of(1234);
  source.delay_ms = 2;
  std::vector<std::string> seen;
  auto result = Pager(source, 100, 8).run([&](const esim::Page& p) {
    for (const auto& pkg : p.packages) seen.push_back(pkg.id);
  });
  std::sort(seen.begin(), seen.end());
  std::vector<std::string> expected;
  for (const auto& p : source.listing) expected.push_back(p.id);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen, expected);
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(result.pages, 13);
}

TEST(ConcurrentPager, UsesThePageSizeTheServerHonours) {
  FakePageSource source = listing_of(100);
  source.max_per_page = 30;
  std::size_t seen = 0;
  auto result = Pager(source, 100, 4).run([&](const esim::Page& p) { seen += p.packages.size(); });
  EXPECT_EQ(seen, 100u);
  EXPECT_TRUE(result.complete);
  for (const auto& [offset, count] : source.asked) {
    EXPECT_EQ(offset % 30, 0) << offset;
    if (offset > 0) {
      EXPECT_EQ(count, 30);
    }
  }
}

TEST(ConcurrentPager, RunsRequestsInParallel) {
  FakePageSource source = listing_of(1600);
  source.delay_ms = 20;
  auto started = std::chrono::steady_clock::now();
  Pager(source, 100, 8).run([](const esim::Page&) {});
  auto took = std::chrono::steady_clock::now() - started;
  // 16 pages of 20 ms: sequentially 320 ms; with 8 in flight, 1 + 2 rounds.
  EXPECT_LT(took, std::chrono::milliseconds(200));
}

TEST(ConcurrentPager, MovingTotalIsNoticed) {
  FakePageSource source = listing_of(1000);
  source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 3) s.listing.erase(s.listing.begin());
  };
  auto result = Pager(source, 100, 4).run([](const esim::Page&) {});
  EXPECT_FALSE(result.complete);
  EXPECT_NE(result.incomplete_reason.find("total moved from 1000 to 999"), std::string::npos);
}

TEST(ConcurrentPager, AFailedPageFailsTheWalk) {
  FakePageSource source = listing_of(2000);
  source.fail_at_offset = 700;
  EXPECT_THROW(Pager(source, 100, 4).run([](const esim::Page&) {}), esim::ApiError);
}

TEST(ConcurrentPager, AFailingSinkStopsTheWorkers) {
  FakePageSource source = listing_of(100000);
  int pages = 0;
  EXPECT_THROW(Pager(source, 100, 4).run([&](const esim::Page&) {
    if (++pages == 3) throw std::runtime_error("database went away");
  }),
               std::runtime_error);
  EXPECT_LT(source.asked.size(), 50u);  // not all 1000 pages
}
