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

TEST(Pager, VisitsEveryPackageOnceAndStopsAtTheShortLastPage) {
  FakePageSource source = listing_of(250);
  std::vector<std::string> seen;
  auto result = Pager(source, 100).run([&](const esim::Page& p) {
    for (const auto& pkg : p.packages) seen.push_back(pkg.id);
  });
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(result.pages, 3);
  EXPECT_EQ(result.moved, "");
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
  EXPECT_EQ(result.moved, "");
}

TEST(Pager, EmptyListingIsOneRequestAndComplete) {
  FakePageSource source;
  auto result = Pager(source, 100).run([](const esim::Page&) {});
  EXPECT_EQ(source.asked.size(), 1u);
  EXPECT_EQ(result.moved, "");
}

TEST(Pager, ListingThatEndsBeforeItsTotalIsNoticed) {
  FakePageSource source = listing_of(100);
  source.reported_total = 150;  // claims 150, serves 100
  auto result = Pager(source, 100).run([](const esim::Page&) {});
  EXPECT_EQ(source.asked.size(), 2u);
  EXPECT_NE(result.moved.find("ended at offset 100 before its reported total 150"), std::string::npos);
}

// A total that lags behind the listing (a cached count) is never where the walk stops.
TEST(Pager, LaggingTotalDoesNotEndTheWalk) {
  for (int concurrency : {1, 4}) {
    FakePageSource source = listing_of(305);
    source.reported_total = 300;
    std::size_t seen = 0;
    Pager(source, 100, concurrency).run([&](const esim::Page& p) { seen += p.packages.size(); });
    EXPECT_EQ(seen, 305u) << concurrency;
  }
}

// "total": 10000000 over 150 packages: the walk ends at the short page, with a bounded number
// of requests (the pages that hold data, plus at most one per worker).
TEST(Pager, AbsurdTotalCostsNoMoreRequests) {
  for (int concurrency : {1, 4}) {
    FakePageSource source = listing_of(150);
    source.reported_total = 10'000'000;
    std::size_t seen = 0;
    Pager(source, 100, concurrency).run([&](const esim::Page& p) { seen += p.packages.size(); });
    EXPECT_EQ(seen, 150u);
    EXPECT_LE(source.asked.size(), 2u + static_cast<unsigned>(concurrency)) << concurrency;
  }
}

// 150 back when 100 were asked: step by what came back, so no package comes twice.
TEST(Pager, PagesLargerThanAskedAreSteppedByWhatCameBack) {
  for (int concurrency : {1, 4}) {
    FakePageSource source = listing_of(1000);
    source.extra_per_page = 50;
    std::vector<std::string> seen;
    auto result = Pager(source, 100, concurrency).run([&](const esim::Page& p) {
      for (const auto& pkg : p.packages) seen.push_back(pkg.id);
    });
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen.size(), 1000u) << concurrency;
    EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << concurrency;
    EXPECT_EQ(result.moved, "") << concurrency;
  }
}

TEST(Pager, TotalMovingDuringThePassMakesItIncomplete) {
  FakePageSource source = listing_of(300);
  source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 2) s.listing.insert(s.listing.begin(), package("pkg_new"));
  };
  auto result = Pager(source, 100).run([](const esim::Page&) {});
    EXPECT_NE(result.moved.find("total moved from 300 to 301"), std::string::npos);
}

TEST(Pager, ListingThatNeverEndsIsAnErrorNotAnEndlessLoop) {
  // A broken server that ignores the offset: every page is the same full page.
  struct SamePageForever : FakePageSource {
    esim::Page fetch_page(std::int64_t, int count) override { return FakePageSource::fetch_page(0, count); }
  } broken;
  broken.listing = listing_of(100).listing;
  EXPECT_THROW(Pager(broken, 100).run([](const esim::Page&) {}), std::runtime_error);
  EXPECT_LT(broken.asked.size(), 20000u);
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
  EXPECT_EQ(result.moved, "");
  EXPECT_GE(result.pages, 13);
  EXPECT_LE(result.pages, 13 + 8);  // the workers in flight when the short page came back
}

TEST(ConcurrentPager, UsesThePageSizeTheServerHonours) {
  FakePageSource source = listing_of(100);
  source.max_per_page = 30;
  std::size_t seen = 0;
  auto result = Pager(source, 100, 4).run([&](const esim::Page& p) { seen += p.packages.size(); });
  EXPECT_EQ(seen, 100u);
  EXPECT_EQ(result.moved, "");
  for (const auto& [offset, count] : source.asked) {
    EXPECT_EQ(offset % 30, 0) << offset;
    EXPECT_EQ(count, 100);  // asks for what it wants; the server's cap decides
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
    EXPECT_NE(result.moved.find("total moved from 1000 to 999"), std::string::npos);
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
