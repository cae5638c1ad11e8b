#include "api/pager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <limits>
#include <map>
#include <mutex>

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

// A short page is not the end (a server may cap pages by bytes): the empty page after it is.
TEST(Pager, VisitsEveryPackageOnceAndEndsAtAnEmptyPage) {
  FakePageSource source = listing_of(250);
  std::vector<std::string> seen;
  auto result = Pager(source, 100).run([&](const esim::Page& p) {
    for (const auto& pkg : p.packages) seen.push_back(pkg.id);
  });
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(result.pages, 4);
  EXPECT_EQ(result.moved, "");
  EXPECT_TRUE(result.ended_at_empty_page);
  ASSERT_EQ(source.asked.size(), 4u);
  EXPECT_EQ(source.asked[2].first, 200);
  EXPECT_EQ(source.asked[2].second, 100);
  EXPECT_EQ(source.asked[3].first, 250);
}

// A short page in the middle (a row dropped after paging, a page capped by bytes) is stepped
// over by what it held, and the walk goes on.
TEST(Pager, AShortPageInTheMiddleIsNotTheEnd) {
  for (int concurrency : {1, 4}) {
    struct ShortInTheMiddle : FakePageSource {
      esim::Page fetch_page(std::int64_t offset, int count) override {
        esim::Page page = FakePageSource::fetch_page(offset, count);
        if (offset == 300 && page.packages.size() > 37) page.packages.resize(37);
        return page;
      }
    } source;
    source.listing = listing_of(1000).listing;
    std::vector<std::string> seen;
    auto result = Pager(source, 100, concurrency).run([&](const esim::Page& p) {
      for (const auto& pkg : p.packages) seen.push_back(pkg.id);
    });
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    EXPECT_EQ(seen.size(), 1000u) << concurrency;
    EXPECT_TRUE(result.ended_at_empty_page) << concurrency;
  }
}

// Some servers answer 400 for an offset past the last package: that is where the listing
// ends, not a failure, whether the last page was full or short.
TEST(Pager, ARefusalPastTheEndEndsTheWalk) {
  for (int size : {300, 250}) {
    for (int concurrency : {1, 4}) {
      struct RefusesPastTheEnd : FakePageSource {
        esim::Page fetch_page(std::int64_t offset, int count) override {
          if (offset >= static_cast<std::int64_t>(listing.size()) && offset > 0) {
            std::lock_guard lock(*mutex);
            asked.emplace_back(offset, count);
            throw esim::ApiError("HTTP 400: Invalid pagination parameters", 400);
          }
          return FakePageSource::fetch_page(offset, count);
        }
      } source;
      source.listing = listing_of(size).listing;
      std::size_t seen = 0;
      auto result = Pager(source, 100, concurrency).run([&](const esim::Page& p) { seen += p.packages.size(); });
      EXPECT_EQ(seen, static_cast<std::size_t>(size)) << size << " " << concurrency;
      EXPECT_FALSE(result.ended_at_empty_page) << "a refusal is not an empty page";
    }
  }
}

// A total of 2^63-1 must not overflow the bound on a listing that never ends.
TEST(Pager, TheLargestTotalDoesNotOverflow) {
  for (int concurrency : {1, 4}) {
    FakePageSource source = listing_of(150);
    source.reported_total = std::numeric_limits<std::int64_t>::max();
    std::size_t seen = 0;
    Pager(source, 100, concurrency).run([&](const esim::Page& p) { seen += p.packages.size(); });
    EXPECT_EQ(seen, 150u) << concurrency;
  }
}

TEST(Pager, AdvancesByWhatTheServerReturnedNotWhatWasAsked) {
  FakePageSource source = listing_of(100);
  source.max_per_page = 30;  // the server caps pages below our page_size
  std::size_t seen = 0;
  auto result = Pager(source, 100).run([&](const esim::Page& p) { seen += p.packages.size(); });
  EXPECT_EQ(seen, 100u);
  EXPECT_EQ(source.asked[1].first, 30);
  EXPECT_EQ(result.pages, 5);  // 30, 30, 30, 10 and the empty page
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
// of requests (the pages that hold data, plus at most one per worker). The concurrent walk tops
// the short page up with one more request (offset 150), which the bound left out: it failed
// whenever that worker took another index before an empty page ended the walk (seen under ASan).
TEST(Pager, AbsurdTotalCostsNoMoreRequests) {
  for (int concurrency : {1, 4}) {
    FakePageSource source = listing_of(150);
    source.reported_total = 10'000'000;
    std::size_t seen = 0;
    Pager(source, 100, concurrency).run([&](const esim::Page& p) { seen += p.packages.size(); });
    EXPECT_EQ(seen, 150u);
    const unsigned top_up = concurrency > 1 ? 1 : 0;
    EXPECT_LE(source.asked.size(), 2u + top_up + static_cast<unsigned>(concurrency)) << concurrency;
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
    if (offset == 100) continue;  // the top-up after the short last page (10 of 30), found empty
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

// ---- PageOrder::kListing: concurrent requests, pages handed over by offset (`fetch --all`).

namespace {

using esim::PageOrder;

// Holds some answers back until another request was answered (or failed), so pages come back
// out of order whatever the timing: held[a] = b keeps the page at offset a until the request
// for offset b is done.
class OutOfOrderSource : public FakePageSource {
 public:
  explicit OutOfOrderSource(int n) { listing = listing_of(n).listing; }
  std::map<std::int64_t, std::int64_t> held;
  std::map<std::int64_t, std::int64_t> short_at;  // offset -> packages that page holds instead

  esim::Page fetch_page(std::int64_t offset, int count) override {
    auto hold = held.find(offset);
    if (hold != held.end()) {
      std::unique_lock lock(answers_mutex_);
      answered_cv_.wait(lock, [&] { return std::count(answers.begin(), answers.end(), hold->second) > 0; });
    }
    struct Answered {  // failed requests too
      OutOfOrderSource& source;
      std::int64_t offset;
      ~Answered() {
        {
          std::lock_guard lock(source.answers_mutex_);
          source.answers.push_back(offset);
        }
        source.answered_cv_.notify_all();
      }
    } answered{*this, offset};
    esim::Page page = FakePageSource::fetch_page(offset, count);
    if (auto cut = short_at.find(offset); cut != short_at.end()) page.packages.resize(cut->second);
    return page;
  }

  std::vector<std::int64_t> answers;  // offsets, in the order their requests were done

 private:
  std::mutex answers_mutex_;
  std::condition_variable answered_cv_;
};

std::vector<std::string> walk_ids(FakePageSource& source, int concurrency, PageOrder order,
                                  esim::PagerResult* result = nullptr) {
  std::vector<std::string> seen;
  auto r = Pager(source, 100, concurrency, order).run([&](const esim::Page& p) {
    for (const auto& pkg : p.packages) seen.push_back(pkg.id);
  });
  if (result) *result = r;
  return seen;
}

std::vector<std::string> ids_of(const std::vector<esim::Package>& packages, std::size_t n) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < n && i < packages.size(); ++i) ids.push_back(packages[i].id);
  return ids;
}

bool answered_before(const std::vector<std::int64_t>& answers, std::int64_t first, std::int64_t then) {
  auto a = std::find(answers.begin(), answers.end(), first);
  auto b = std::find(answers.begin(), answers.end(), then);
  return a != answers.end() && b != answers.end() && a < b;
}

}  // namespace

TEST(ListingOrderPager, HandsPagesOverByOffsetWhateverTheArrivalOrder) {
  OutOfOrderSource source(2345);
  source.held = {{100, 400}, {700, 900}, {1200, 1300}};
  esim::PagerResult result;
  std::vector<std::string> seen = walk_ids(source, 4, PageOrder::kListing, &result);

  // The pages did come back out of order...
  EXPECT_TRUE(answered_before(source.answers, 400, 100));
  EXPECT_TRUE(answered_before(source.answers, 900, 700));
  // ...and went to the sink in listing order, each package once, as the sequential walk sees it.
  EXPECT_EQ(seen, ids_of(source.listing, 2345));
  FakePageSource sequential = listing_of(2345);
  EXPECT_EQ(seen, walk_ids(sequential, 1, PageOrder::kListing));
  EXPECT_EQ(result.pages, 25);  // 24 with packages, then the empty one
  EXPECT_EQ(result.packages_received, 2345);
  EXPECT_EQ(result.moved, "");
}

TEST(ListingOrderPager, ManyWorkersAndDelaysStillGiveTheListingInOrder) {
  for (int concurrency : {2, 3, 8, 16}) {
    OutOfOrderSource source(1999);
    source.max_per_page = 70;  // the server's page size, not ours, steps the offsets
    source.held = {{70, 210}, {350, 630}};  // pages 0 and 4 after pages 2 and 8
    EXPECT_EQ(walk_ids(source, concurrency, PageOrder::kListing), ids_of(source.listing, 1999)) << concurrency;
  }
}

// A short page in the middle of the listing (a server capping it by bytes, a row dropped after
// paging) is topped up by the worker that fetched it, so the listing comes out whole and in
// order, as the sequential walk (which steps by what came back) sees it, even though full pages
// past the short one came back first.
TEST(ListingOrderPager, AShortPageInTheMiddleIsToppedUpNotTheEnd) {
  OutOfOrderSource source(3000);
  source.short_at = {{300, 50}};
  source.held = {{300, 500}};  // the short page comes back after full pages beyond it
  esim::PagerResult result;
  std::vector<std::string> seen = walk_ids(source, 4, PageOrder::kListing, &result);

  EXPECT_TRUE(answered_before(source.answers, 500, 300));
  EXPECT_EQ(seen, ids_of(source.listing, 3000));
  OutOfOrderSource sequential(3000);
  sequential.short_at = source.short_at;
  EXPECT_EQ(seen, walk_ids(sequential, 1, PageOrder::kListing));
  EXPECT_EQ(result.moved, "");
  EXPECT_TRUE(result.ended_at_empty_page);
}

TEST(ListingOrderPager, AFailedPageFailsTheWalkAfterThePagesBeforeIt) {
  OutOfOrderSource source(2000);
  source.fail_at_offset = 700;
  source.held = {{600, 700}};  // the page before the failure comes back after it, and counts
  std::vector<std::string> seen;
  try {
    Pager(source, 100, 4, PageOrder::kListing).run([&](const esim::Page& p) {
      for (const auto& pkg : p.packages) seen.push_back(pkg.id);
    });
    ADD_FAILURE() << "the walk succeeded past a failed page";
  } catch (const esim::ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("offset 700"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, ids_of(source.listing, 700));
}

// The sequential walk never asks past the short last page; a request that the concurrent walk
// had in flight past it failing changes nothing: the listing was complete.
TEST(ListingOrderPager, AFailedRequestPastTheEndIsNotAFailure) {
  OutOfOrderSource source(250);
  source.fail_at_offset = 400;
  source.held = {{200, 400}, {300, 400}};  // the end comes back only after the failure past it
  std::vector<std::string> seen = walk_ids(source, 4, PageOrder::kListing);
  EXPECT_TRUE(answered_before(source.answers, 400, 200));
  EXPECT_EQ(seen, ids_of(source.listing, 250));
}

// Listings that end oddly end where the sequential walk ends them, with the same packages.
TEST(ListingOrderPager, OddListingsGiveExactlyWhatTheSequentialWalkGives) {
  struct Case {
    const char* name;
    std::function<void(FakePageSource&)> make;
  };
  const std::vector<Case> cases = {
      {"empty", [](FakePageSource& s) { s.listing.clear(); }},
      {"one short page", [](FakePageSource& s) { s.listing.resize(42); }},
      {"last page full", [](FakePageSource& s) { s.listing.resize(300); }},
      {"lagging total", [](FakePageSource& s) { s.reported_total = 900; }},
      {"absurd total", [](FakePageSource& s) { s.reported_total = 10'000'000; }},
      {"pages capped by the server", [](FakePageSource& s) { s.max_per_page = 30; }},
      {"pages larger than asked", [](FakePageSource& s) { s.extra_per_page = 50; }},
  };
  for (const Case& c : cases) {
    FakePageSource sequential = listing_of(1005), concurrent = listing_of(1005);
    c.make(sequential);
    c.make(concurrent);
    concurrent.delay_ms = 1;
    esim::PagerResult one, many;
    const std::vector<std::string> expected = walk_ids(sequential, 1, PageOrder::kListing, &one);
    EXPECT_EQ(walk_ids(concurrent, 4, PageOrder::kListing, &many), expected) << c.name;
    EXPECT_EQ(many.pages, one.pages) << c.name;
    EXPECT_EQ(many.moved, one.moved) << c.name;
  }
}

TEST(ListingOrderPager, ErrorsOfTheSinkStopTheWorkers) {
  FakePageSource source = listing_of(100000);
  int pages = 0;
  EXPECT_THROW(Pager(source, 100, 4, PageOrder::kListing).run([&](const esim::Page&) {
    if (++pages == 3) throw std::runtime_error("stdout closed");
  }),
               std::runtime_error);
  EXPECT_LT(source.asked.size(), 50u);
}

// While the page due next is slow, the workers run ahead by at most the reorder window: pages
// held for ordering stay under 2 x concurrency, plus the one page each other worker fetched and
// cannot hand over yet. Memory stays a few pages however slow that one page is.
TEST(ListingOrderPager, ASlowPageHoldsTheWorkersBackWithinTheWindow) {
  constexpr int kConcurrency = 4;
  // Pages 200.. (numbers 1..) may wait while page 100 (number 0) is due: 1..7 in the window,
  // and 3 more, one in each other worker's hands.
  constexpr std::int64_t kBound = 2 * kConcurrency - 1 + (kConcurrency - 1);
  struct SlowSecondPage : FakePageSource {
    std::mutex m;
    std::condition_variable cv;
    std::int64_t answered_others = 0;
    std::int64_t answered_while_slow = -1;
    esim::Page fetch_page(std::int64_t offset, int count) override {
      if (offset == 100) {
        std::unique_lock lock(m);
        // Every page the bound allows comes back (the bound is exact, so this wait ends)...
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered_others >= kBound; });
        // ...and no more: a pager without a window would go on to fetch the whole listing.
        cv.wait_for(lock, std::chrono::milliseconds(300), [&] { return answered_others > kBound; });
        answered_while_slow = answered_others;
      }
      esim::Page page = FakePageSource::fetch_page(offset, count);
      if (offset > 100) {
        std::lock_guard lock(m);
        ++answered_others;
        cv.notify_all();
      }
      return page;
    }
  } source;
  source.listing = listing_of(5000).listing;
  std::vector<std::string> seen = walk_ids(source, kConcurrency, PageOrder::kListing);
  EXPECT_EQ(source.answered_while_slow, kBound);
  EXPECT_EQ(seen, ids_of(source.listing, 5000));
}
