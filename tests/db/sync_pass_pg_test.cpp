// The pass over the real store: what SyncPass concludes from the counts PgStore reports, which
// the unit tests' FakeStore cannot show (it counts staged rows its own way).
#include <gtest/gtest.h>

#include "store/pg_store.h"
#include "support/test_database.h"
#include "sync/sync_pass.h"
#include "unit/fakes.h"

using esim::Package;
using esim::PgStore;
using esim::SyncPass;
using esim::fakes::FakePageSource;
using esim::fakes::FixedClock;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

Package on_sim(const std::string& id, const std::string& sim) {
  Package p = esim::fakes::package(id);
  p.sim = sim;
  p.raw_json = R"({"id":")" + id + R"(","status":"ACTIVE","sim":")" + sim + R"("})";
  return p;
}

class SyncPassOnPostgres : public ::testing::Test {
 protected:
  SyncPassOnPostgres() : store(db.url(), 0ms, nullptr) { store.migrate(); }

  esim::PassOutcome pass() {
    clock.at += 15min;
    return SyncPass(source, store, clock, settings).run();
  }

  TestDatabase db;
  PgStore store;
  FakePageSource source;
  FixedClock clock;
  esim::SyncSettings settings;
};

}  // namespace

// A lookup lists every package on the candidate's SIM, so packages the walk already staged come
// again from it. That is how a lookup works, not a sign that the listing moved under the walk.
TEST_F(SyncPassOnPostgres, LookupsThatListAStagedPackageAgainAreNoSignOfAMovedListing) {
  for (int i = 0; i < 10; ++i) source.listing.push_back(on_sim("p" + std::to_string(i), "sim" + std::to_string(i)));
  source.listing.push_back(on_sim("p10", "sim0"));  // sim0 carries two packages
  ASSERT_TRUE(pass().succeeded());

  source.listing.pop_back();  // p10 leaves; the lookup of sim0 lists p0 only
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.removed_by_lookup, 1);
  EXPECT_EQ(outcome.counts.packages_seen, 10);
  EXPECT_FALSE(outcome.listing_moved);
}

// A first load learns of a duplicate only when it inserts: the pass still says the listing moved.
TEST_F(SyncPassOnPostgres, AFirstLoadWithAPackageTwiceSaysTheListingMoved) {
  for (int i = 0; i < 10; ++i) source.listing.push_back(on_sim("p" + std::to_string(i), "sim" + std::to_string(i)));
  source.listing.push_back(on_sim("p3", "sim3"));
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.packages_seen, 10);
  EXPECT_EQ(outcome.counts.inserted, 10);
  EXPECT_TRUE(outcome.listing_moved);
}
