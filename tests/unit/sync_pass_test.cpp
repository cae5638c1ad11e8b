#include "sync/sync_pass.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "fakes.h"

using esim::SyncPass;
using esim::fakes::FakePageSource;
using esim::fakes::FakeStore;
using esim::fakes::FakeClock;
using esim::fakes::package;

namespace {

struct Harness {
  FakePageSource source;
  FakeStore store;
  FakeClock clock;
  esim::SyncSettings settings;
  esim::PassOutcome run(std::vector<std::string> secrets = {}) {
    settings.page_size = 100;
    settings.secrets = std::move(secrets);
    return SyncPass(source, store, clock, settings).run();
  }
};

}  // namespace

TEST(SyncPass, CompleteListingIsStagedAndCommittedWithRemovals) {
  Harness h;
  for (int i = 0; i < 230; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded());
  ASSERT_EQ(h.store.commits.size(), 1u);
  EXPECT_EQ(h.store.commits[0].staged_ids.size(), 230u);
  EXPECT_TRUE(h.store.commits[0].options.apply_removals);
  EXPECT_EQ(h.store.commits[0].options.seen_at, h.clock.at);  // every change is stamped with the pass time
  EXPECT_TRUE(h.store.failures.empty());
}

TEST(SyncPass, FailedPageCommitsNothingAndRecordsTheFailure) {
  Harness h;
  for (int i = 0; i < 300; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  h.source.fail_at_offset = 200;
  auto outcome = h.run();
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(h.store.commits.empty());
  ASSERT_EQ(h.store.failures.size(), 1u);
  EXPECT_EQ(h.store.failures[0].first, outcome.run);
  EXPECT_NE(h.store.failures[0].second.find("offset 200"), std::string::npos);
}

namespace {

// A mirror that holds p0..p{n-1}, and a listing that lists the same.
void listed_and_live(Harness& h, int n) {
  for (int i = 0; i < n; ++i) {
    h.source.listing.push_back(package("p" + std::to_string(i)));
    h.store.live.insert("p" + std::to_string(i));
  }
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

// p0 goes after the first page: every later page slides by one, so the walk skips p100 (it
// moved onto page 0, already read). The lookup of p100 by id finds it. (p0 was seen on page 0,
// so it stays until the next pass proves it gone.)
TEST(SyncPass, MovedListingIsSettledByLookupsNotByRemovingWhatTheWalkSkipped) {
  Harness h;
  listed_and_live(h, 300);
  h.source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 2) s.listing.erase(s.listing.begin());
  };
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.listing_attempts, 1);
  ASSERT_EQ(h.store.commits.size(), 1u);
  EXPECT_TRUE(h.store.commits[0].options.apply_removals);
  EXPECT_TRUE(h.store.gone_ids.empty());
  EXPECT_TRUE(contains(h.store.commits[0].staged_ids, "p100"));  // applied as seen by the lookup
  EXPECT_TRUE(contains(h.source.id_lookups, "p100"));
  EXPECT_GE(h.source.id_lookups.size(), 2u) << "the candidate, and at least one control the walk saw";
  EXPECT_EQ(h.store.commits[0].options.lookups, static_cast<std::int64_t>(h.source.id_lookups.size()));
  EXPECT_EQ(h.store.commits[0].options.recovered_by_lookup, 1);
  EXPECT_EQ(outcome.warning, "");
}

// A listing that never holds still no longer postpones every removal: proven ones apply.
TEST(SyncPass, ListingThatKeepsMovingStillAppliesProvenRemovals) {
  Harness h;
  listed_and_live(h, 300);
  h.store.live.insert("gone1");
  h.source.before_page = [](FakePageSource& s) {
    if (s.asked.size() % 3 == 2) s.listing.insert(s.listing.begin(), package("new" + std::to_string(s.asked.size())));
  };
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.listing_attempts, 1);
  EXPECT_TRUE(h.store.commits[0].options.apply_removals);
  EXPECT_TRUE(contains(h.store.gone_ids, "gone1"));
  for (int i = 0; i < 300; ++i) EXPECT_FALSE(contains(h.store.gone_ids, "p" + std::to_string(i))) << i;
}

// More candidates than lookups may settle, and the listing moved: walk again (bounded).
TEST(SyncPass, MovedListingWithTooManyCandidatesIsWalkedAgain) {
  Harness h;
  listed_and_live(h, 300);
  h.settings.max_removal_lookups = 0;
  h.source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 2) s.listing.erase(s.listing.begin());  // once only
  };
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.listing_attempts, 2);
  EXPECT_EQ(h.store.commits[0].staged_ids.size(), 299u);  // only the second, quiet walk is applied
  EXPECT_TRUE(h.source.id_lookups.empty());
  EXPECT_NE(outcome.warning.find("1 removal(s) deferred"), std::string::npos) << outcome.warning;
  EXPECT_NE(outcome.warning.find("1 beyond sync.max_removal_lookups"), std::string::npos) << outcome.warning;
}

// A server whose lookups say "no such package" for everything: its controls (packages the walk
// has just seen) are not found either, so no answer proves anything.
TEST(SyncPass, LookupsThatFindNothingProveNothing) {
  Harness h;
  listed_and_live(h, 150);
  h.store.live.insert("gone1");
  h.store.live.insert("gone2");
  h.source.answer_404 = true;
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_TRUE(h.store.gone_ids.empty());
  EXPECT_TRUE(contains(h.source.id_lookups, "gone1"));
  EXPECT_NE(outcome.warning.find("2 removal(s) deferred"), std::string::npos) << outcome.warning;
  EXPECT_NE(outcome.warning.find("did not find a package the walk had just seen"), std::string::npos)
      << outcome.warning;
  EXPECT_EQ(h.store.commits[0].options.lookups_inconclusive, 2);
}

// The same server, honest: the same two are proven gone, next to controls it found.
TEST(SyncPass, LookupsThatFindTheControlsProveRemovals) {
  Harness h;
  listed_and_live(h, 150);
  h.store.live.insert("gone1");
  h.store.live.insert("gone2");
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(h.store.gone_ids, (std::vector<std::string>{"gone1", "gone2"}));
  EXPECT_EQ(h.store.commits[0].options.lookups_inconclusive, 0);
  EXPECT_EQ(outcome.warning, "");
}

// The guard judges what the walk lost: a listing that comes back empty removes nothing, asks
// nothing, and is no walk that the two-walk rule may count.
TEST(SyncPass, AnEmptyListingHoldsEveryRemovalWithoutAskingAnything) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_FALSE(outcome.removals_applied);
  EXPECT_TRUE(h.source.id_lookups.empty());
  EXPECT_FALSE(h.store.commits[0].options.apply_removals);  // so it neither removes nor remembers
  EXPECT_NE(outcome.warning.find("removal guard: 100 of 100 live packages"), std::string::npos) << outcome.warning;
}

TEST(SyncPass, ACandidateTheLastWalkMissedTooIsRemovableWithoutLookup) {
  Harness h;
  listed_and_live(h, 50);
  h.store.live.insert("gone1");
  h.store.missed_before.insert("gone1");
  h.source.answer_404 = true;  // no lookup can prove anything
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_TRUE(outcome.removals_applied);
  EXPECT_TRUE(h.store.commits[0].options.walk_complete);  // so the earlier miss counts
  EXPECT_EQ(outcome.warning, "");  // nothing deferred: the two-walk rule settles it
}

// A walk that saw the listing move cannot be a second walk: the earlier miss waits.
TEST(SyncPass, AnIncompleteWalkIsNoSecondWalk) {
  Harness h;
  listed_and_live(h, 50);
  h.store.live.insert("gone1");
  h.store.missed_before.insert("gone1");
  h.source.answer_404 = true;
  h.source.reported_total = 60;  // the listing says 60 and shows 50
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_FALSE(h.store.commits[0].options.walk_complete);
  EXPECT_NE(outcome.warning.find("1 removal(s) deferred"), std::string::npos) << outcome.warning;
  EXPECT_NE(outcome.warning.find("cannot count as a second walk"), std::string::npos) << outcome.warning;
}

TEST(SyncPass, LookupsAreBounded) {
  Harness h;
  listed_and_live(h, 50);
  for (int i = 0; i < 10; ++i) h.store.live.insert("gone" + std::to_string(i));
  h.settings.max_removal_lookups = 3;
  h.settings.max_removed_fraction = 1;
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(std::count_if(h.source.id_lookups.begin(), h.source.id_lookups.end(),
                          [](const std::string& id) { return id.rfind("gone", 0) == 0; }),
            3);
  EXPECT_EQ(h.store.gone_ids.size(), 3u);
  EXPECT_NE(outcome.warning.find("7 removal(s) deferred"), std::string::npos) << outcome.warning;
}

TEST(SyncPass, QuietListingMakesNoLookups) {
  Harness h;
  listed_and_live(h, 250);
  auto outcome = h.run();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_TRUE(h.source.id_lookups.empty());
  EXPECT_EQ(h.source.asked.size(), 4u);  // three pages, and the empty one that ends the listing
  EXPECT_EQ(outcome.warning, "");
}

TEST(SyncPass, MassRemovalIsWithheldAboveTheThreshold) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  for (int i = 0; i < 70; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));  // 30% gone
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_FALSE(h.store.commits[0].options.apply_removals);
  EXPECT_NE(outcome.warning.find("removal guard: 30 of 100 live packages (30.0%)"), std::string::npos)
      << outcome.warning;
}

TEST(SyncPass, EmptyListingDoesNotEmptyTheMirror) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  auto outcome = h.run();  // the API answers total 0, no packages
  EXPECT_TRUE(outcome.succeeded());
  EXPECT_FALSE(h.store.commits[0].options.apply_removals);
}

TEST(SyncPass, RemovalsBelowTheThresholdOrAllowedAreApplied) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  for (int i = 0; i < 80; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));  // exactly 20%
  EXPECT_TRUE(h.run().removals_applied);

  Harness forced;
  for (int i = 0; i < 100; ++i) forced.store.live.insert("p" + std::to_string(i));
  forced.settings.allow_mass_removal = true;
  auto outcome = forced.run();
  EXPECT_TRUE(outcome.removals_applied);
}

TEST(SyncPass, DatabaseFailureAtCommitIsAFailedPass) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  h.store.fail_on_commit = true;
  auto outcome = h.run();
  EXPECT_FALSE(outcome.succeeded());
  ASSERT_EQ(h.store.failures.size(), 1u);
  EXPECT_NE(outcome.error.find("could not serialize"), std::string::npos);
}

TEST(SyncPass, DatabaseDownAtStartFailsWithoutAskingTheApi) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  h.store.fail_on_start = true;
  auto outcome = h.run();
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(h.source.asked.empty());
  EXPECT_NE(outcome.error.find("database is down"), std::string::npos);
}

TEST(SyncPass, SecretsAreRedactedFromTheRecordedError) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  h.source.fail_at_offset = 0;
  // The fake's error message names the offset; make the secret appear in it.
  auto outcome = h.run({"offset"});
  ASSERT_EQ(h.store.failures.size(), 1u);
  EXPECT_EQ(h.store.failures[0].second.find("offset"), std::string::npos) << h.store.failures[0].second;
  EXPECT_NE(h.store.failures[0].second.find("[REDACTED]"), std::string::npos);
}

TEST(SyncPass, AnotherWriterHoldingTheLockMeansNoPassAtAll) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  h.store.lock_held_elsewhere = true;
  auto outcome = h.run();
  EXPECT_TRUE((outcome.result == esim::PassResult::kLockedOut));
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(h.store.runs_started.empty());
  EXPECT_TRUE(h.source.asked.empty());
}

TEST(SyncPass, TheLockIsReleasedAfterEveryPass) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  EXPECT_TRUE(h.run().succeeded());
  EXPECT_FALSE(h.store.locked);
  h.source.fail_at_offset = 0;
  EXPECT_FALSE(h.run().succeeded());
  EXPECT_FALSE(h.store.locked);
}

TEST(SyncPass, CancelStopsBetweenPagesAndRecordsAnAbort) {
  Harness h;
  for (int i = 0; i < 500; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  util::CancelToken token;
  h.settings.cancel = &token;
  int pages = 0;
  h.settings.heartbeat = [&] {
    if (++pages == 2) token.cancel();
  };
  auto outcome = h.run();
  EXPECT_TRUE((outcome.result == esim::PassResult::kAborted));
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_TRUE(h.store.commits.empty());
  ASSERT_EQ(h.store.aborts.size(), 1u);
  EXPECT_LT(h.source.asked.size(), 5u);
  EXPECT_FALSE(h.store.locked);
}

// `once` lets the writer lock go after its pass; `run` keeps it, as the leadership of a
// standby pair; a pass that was locked out has nothing to let go.
TEST(SyncPass, TheWriterLockIsReleasedByOnceAndKeptByRun) {
  Harness once;
  listed_and_live(once, 10);
  ASSERT_TRUE(once.run().succeeded());
  EXPECT_FALSE(once.store.locked);

  Harness run;
  listed_and_live(run, 10);
  run.settings.hold_writer_lock = true;
  ASSERT_TRUE(run.run().succeeded());
  EXPECT_TRUE(run.store.locked);
  run.store.fail_on_commit = true;
  EXPECT_FALSE(run.run().succeeded());
  EXPECT_TRUE(run.store.locked);  // a failed pass keeps the leadership too
}

namespace {

// A listing that never ends: every page comes back full, whatever its total says.
class EndlessListing : public FakePageSource {
 public:
  esim::Page fetch_page(std::int64_t offset, int count) override {
    esim::Page page;
    page.offset = offset;
    page.total = 1;
    page.packages.assign(static_cast<std::size_t>(count), package("p"));
    return page;
  }
};

}  // namespace

// The API's fault, so counted as an "api" failure in esim_sync_pass_failures_total, not "database".
TEST(SyncPass, AListingThatNeverEndsIsAnApiFailure) {
  EndlessListing endless;
  FakeStore store;
  FakeClock clock;
  esim::SyncSettings settings;
  settings.page_size = 100000;
  const esim::PassOutcome outcome = SyncPass(endless, store, clock, settings).run();
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_NE(outcome.error.find("the listing never ended"), std::string::npos) << outcome.error;
  EXPECT_EQ(outcome.error_kind, esim::FailureKind::kApi);
}

namespace {

// A listing in which every package carries odd values, as the parser words its warnings.
class OddListing : public FakePageSource {
 public:
  esim::Page fetch_page(std::int64_t offset, int count) override {
    esim::Page page = FakePageSource::fetch_page(offset, count);
    for (const auto& p : page.packages) {
      page.warnings.push_back("page at offset " + std::to_string(offset) + ": package " + p.id +
                              ": \"note\" held \\u0000, replaced by U+FFFD");
      page.warnings.push_back("page at offset " + std::to_string(offset) + ": package " + p.id +
                              ": \"sim\" of 3000 bytes, more than 2000; stored as NULL");
    }
    return page;
  }
};

// The lines the default logger writes while it lives.
class LogLines {
 public:
  LogLines() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogLines() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::vector<std::string> containing(const std::string& needle) const {
    std::vector<std::string> out;
    std::istringstream lines(text_.str());
    for (std::string line; std::getline(lines, line);) {
      if (line.find(needle) != std::string::npos) out.push_back(line);
    }
    return out;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace

// Issue 19 item 6: 2,000 odd packages give a few example lines and a count by kind, not a line
// (and a remembered string) each.
TEST(SyncPass, OddValueWarningsAreAFewExamplesThenCountsByKind) {
  OddListing odd;
  for (int i = 0; i < 2000; ++i) odd.listing.push_back(package("p" + std::to_string(i)));
  FakeStore store;
  FakeClock clock;
  esim::SyncSettings settings;
  LogLines log;
  ASSERT_TRUE(SyncPass(odd, store, clock, settings).run().succeeded());
  const auto lines = log.containing("page at offset");
  EXPECT_LE(lines.size(), 10u);
  EXPECT_GE(lines.size(), 1u);
  const auto summary = log.containing("odd values");
  ASSERT_EQ(summary.size(), 1u) << log.containing("").size();
  EXPECT_NE(summary[0].find("4000 odd values"), std::string::npos) << summary[0];
  EXPECT_NE(summary[0].find("2000 \\u0000 replaced"), std::string::npos) << summary[0];
  EXPECT_NE(summary[0].find("2000 text too long to index, stored as NULL"), std::string::npos) << summary[0];
}
