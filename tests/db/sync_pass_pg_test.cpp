// The pass over the real store: what SyncPass concludes from the counts PgStore reports, which
// the unit tests' FakeStore cannot show (it counts staged rows its own way).
#include <gtest/gtest.h>

#include "api/packages_client.h"
#include "store/pg_store.h"
#include "support/test_database.h"
#include "sync/sync_pass.h"
#include "unit/fakes.h"

using esim::Package;
using esim::PgStore;
using esim::SyncPass;
using esim::fakes::FakePageSource;
using esim::fakes::FakeClock;
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
  FakeClock clock;
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

namespace {

// A server whose lookups fail as a proxy might: HTTP 503 with a body in its own language, shown
// in the error as error_body_summary shows it (cut at 200 bytes), or one that is not even UTF-8.
class FailingLookups : public FakePageSource {
 public:
  std::string body;
  std::optional<esim::Package> fetch_package(const std::string& id) override {
    throw esim::ApiError("GET .../packages/" + id + ": HTTP 503: " + esim::error_body_summary(body), 503);
  }
};

}  // namespace

// A failed lookup defers its removals and says why on the run; it never fails the pass, whatever
// bytes the server's error page held (the run's warning is text, which PostgreSQL checks).
TEST_F(SyncPassOnPostgres, ALookupFailingWithAnyErrorBodyOnlyDefersTheRemoval) {
  FailingLookups lookups;
  for (int i = 0; i < 20; ++i) lookups.listing.push_back(on_sim("p" + std::to_string(i), "sim" + std::to_string(i)));
  ASSERT_TRUE(SyncPass(lookups, store, clock, settings).run().succeeded());
  std::string cut_in_a_character = "x";  // 201 bytes: the summary's cut at 200 falls inside the last one
  for (int i = 0; i < 100; ++i) cut_in_a_character += "\xD0\x96";
  for (const std::string& body : {cut_in_a_character, std::string("Dienst nicht verf\xFCgbar (Latin-1)")}) {
    lookups.listing.pop_back();  // a new candidate each pass (the previous one waits on the second walk)
    lookups.body = body;
    clock.at += 15min;
    const esim::PassOutcome outcome = SyncPass(lookups, store, clock, settings).run();
    ASSERT_TRUE(outcome.succeeded()) << outcome.error;
    EXPECT_EQ(outcome.counts.removals_deferred, 1);
    EXPECT_NE(db.scalar("SELECT warning FROM esim.sync_runs ORDER BY id DESC LIMIT 1").find("a lookup failed: GET"),
              std::string::npos);
  }
}

namespace {

class FailingListing : public FakePageSource {
 public:
  std::string body;
  esim::Page fetch_page(std::int64_t, int) override {
    throw esim::ApiError("GET .../packages?offset=0&count=100: HTTP 502: " + esim::error_body_summary(body), 502);
  }
};

}  // namespace

// The run row says why a pass failed, whatever bytes the server's error page held; it used to stay
// 'running' (PostgreSQL refused the error text), and the next pass called it a crash.
TEST_F(SyncPassOnPostgres, AFailureIsRecordedWhateverBytesTheErrorPageHeld) {
  FailingListing listing;
  listing.body = "Bad Gateway: Dienst nicht verf\xFCgbar";
  const esim::PassOutcome outcome = SyncPass(listing, store, clock, settings).run();
  EXPECT_FALSE(outcome.succeeded());
  EXPECT_EQ(db.scalar("SELECT status || ': ' || error FROM esim.sync_runs WHERE id = " + std::to_string(outcome.run)),
            "failed: GET .../packages?offset=0&count=100: HTTP 502: Bad Gateway: Dienst nicht verf\xEF\xBF\xBDgbar");
}
