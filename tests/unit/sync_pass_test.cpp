#include "sync/sync_pass.h"

#include <gtest/gtest.h>

#include "fakes.h"

using esim::SyncPass;
using esim::fakes::FakePageSource;
using esim::fakes::FakeStore;
using esim::fakes::FixedClock;
using esim::fakes::package;

namespace {

struct Harness {
  FakePageSource source;
  FakeStore store;
  FixedClock clock;
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
  EXPECT_TRUE(outcome.succeeded);
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
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_TRUE(h.store.commits.empty());
  ASSERT_EQ(h.store.failures.size(), 1u);
  EXPECT_EQ(h.store.failures[0].first, outcome.run);
  EXPECT_NE(h.store.failures[0].second.find("offset 200"), std::string::npos);
}

TEST(SyncPass, ListingThatMovedOnceIsPagedAgainAndThenTrusted) {
  Harness h;
  for (int i = 0; i < 300; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  h.source.before_page = [](FakePageSource& s) {
    if (s.asked.size() == 2) s.listing.erase(s.listing.begin());  // one package goes mid-walk
  };
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded);
  EXPECT_EQ(outcome.listing_attempts, 2);
  ASSERT_EQ(h.store.commits.size(), 1u);
  EXPECT_TRUE(h.store.commits[0].options.apply_removals);
  EXPECT_EQ(h.store.commits[0].staged_ids.size(), 299u);  // only the second walk is applied
}

TEST(SyncPass, ListingThatKeepsMovingAppliesChangesButNoRemovals) {
  Harness h;
  for (int i = 0; i < 300; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  h.source.before_page = [](FakePageSource& s) {
    if (s.asked.size() % 3 == 2) s.listing.insert(s.listing.begin(), package("new" + std::to_string(s.asked.size())));
  };
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded);
  EXPECT_EQ(outcome.listing_attempts, 3);  // the first walk and max_repaging (2) more
  ASSERT_EQ(h.store.commits.size(), 1u);
  EXPECT_FALSE(h.store.commits[0].options.apply_removals);
  EXPECT_NE(h.store.commits[0].options.warning.find("removals skipped"), std::string::npos);
}

TEST(SyncPass, DuplicateIdsMakeTheWalkInconsistent) {
  Harness h;
  for (int i = 0; i < 150; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));
  h.source.listing[120] = package("p5");  // a server that lists one package twice, total unchanged
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded);
  EXPECT_FALSE(h.store.commits.back().options.apply_removals);
  EXPECT_NE(outcome.warning.find("came twice"), std::string::npos) << outcome.warning;
}

TEST(SyncPass, MassRemovalIsWithheldAboveTheThreshold) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  for (int i = 0; i < 70; ++i) h.source.listing.push_back(package("p" + std::to_string(i)));  // 30% gone
  auto outcome = h.run();
  EXPECT_TRUE(outcome.succeeded);
  EXPECT_FALSE(h.store.commits[0].options.apply_removals);
  EXPECT_NE(outcome.warning.find("removal guard: 30 of 100 live packages (30.0%)"), std::string::npos)
      << outcome.warning;
}

TEST(SyncPass, EmptyListingDoesNotEmptyTheMirror) {
  Harness h;
  for (int i = 0; i < 100; ++i) h.store.live.insert("p" + std::to_string(i));
  auto outcome = h.run();  // the API answers total 0, no packages
  EXPECT_TRUE(outcome.succeeded);
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
  EXPECT_FALSE(outcome.succeeded);
  ASSERT_EQ(h.store.failures.size(), 1u);
  EXPECT_NE(outcome.error.find("could not serialize"), std::string::npos);
}

TEST(SyncPass, DatabaseDownAtStartFailsWithoutAskingTheApi) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  h.store.fail_on_start = true;
  auto outcome = h.run();
  EXPECT_FALSE(outcome.succeeded);
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
  EXPECT_TRUE(outcome.locked_out);
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_TRUE(h.store.runs_started.empty());
  EXPECT_TRUE(h.source.asked.empty());
}

TEST(SyncPass, TheLockIsReleasedAfterEveryPass) {
  Harness h;
  h.source.listing.push_back(package("p1"));
  EXPECT_TRUE(h.run().succeeded);
  EXPECT_FALSE(h.store.locked);
  h.source.fail_at_offset = 0;
  EXPECT_FALSE(h.run().succeeded);
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
  EXPECT_TRUE(outcome.aborted);
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_TRUE(h.store.commits.empty());
  ASSERT_EQ(h.store.aborts.size(), 1u);
  EXPECT_LT(h.source.asked.size(), 5u);
  EXPECT_FALSE(h.store.locked);
}
