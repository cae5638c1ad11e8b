// The sync rules, as they land in PostgreSQL: what each kind of change writes, and what it
// must leave alone.
#include "store/pg_store.h"

#include <gtest/gtest.h>

#include <random>

#include "api/page_parser.h"
#include "support/test_database.h"

using esim::Package;
using esim::PassCounts;
using esim::PgStore;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

esim::TimePoint at(int seconds) { return esim::TimePoint(std::chrono::seconds(1'764'000'000 + seconds)); }

Package pkg(const std::string& id, const std::string& status, const std::string& sim = "8914800000000000001") {
  Package p;
  p.id = id;
  p.status = status;
  p.sim = sim;
  p.package_template = 21145354;
  p.created_date = 1761330317123;
  if (status != "NOT_ACTIVE") {
    p.activated_date = 1761330517000;
    p.expiry_date = 1763922517000;
  }
  p.raw_json = R"({"id":")" + id + R"(","status":")" + status + R"(","sim":")" + sim + R"("})";
  return p;
}

class PgStoreTest : public ::testing::Test {
 protected:
  PgStoreTest() : store(db.url()) { store.migrate(); }

  // One pass that lists `packages`; `gone`: the candidates a lookup proved are no longer listed.
  PassCounts pass(const std::vector<Package>& packages, int when, bool removals = true,
                  const std::vector<std::string>& gone = {}) {
    auto run = store.start_run(at(when), 900s);
    auto staging = store.open_pass(run);
    staging->stage(packages);
    auto diff = esim::PassStaging::diff(std::move(staging));
    diff->add_proof({}, gone);
    return esim::PassDiff::apply(std::move(diff), {at(when), removals, 1, ""});
  }

  // History as "id:old>new" lines in insertion order, NULL shown as -.
  std::vector<std::string> history() {
    std::vector<std::string> out;
    for (const auto& row : db.query("SELECT package_id, coalesce(old_status, '-'), coalesce(new_status, '-') "
                                    "FROM esim.package_status_history ORDER BY id")) {
      out.push_back(std::string(row[0].c_str()) + ":" + row[1].c_str() + ">" + row[2].c_str());
    }
    return out;
  }

  TestDatabase db;
  PgStore store;
};

using History = std::vector<std::string>;

}  // namespace

TEST_F(PgStoreTest, FirstPassInsertsEveryPackageWithAFirstSighting) {
  PassCounts c = pass({pkg("a", "ACTIVE"), pkg("b", "NOT_ACTIVE")}, 0);
  EXPECT_EQ(c.packages_seen, 2);
  EXPECT_EQ(c.inserted, 2);
  EXPECT_EQ(c.status_changes, 0);
  EXPECT_EQ(history(), (History{"a:->ACTIVE", "b:->NOT_ACTIVE"}));
  // Epoch milliseconds become timestamptz exactly, milliseconds kept; absent dates are NULL.
  EXPECT_EQ(db.scalar("SELECT (extract(epoch FROM created_date) * 1000)::bigint FROM esim.packages WHERE id = 'a'"),
            "1761330317123");
  EXPECT_EQ(db.scalar("SELECT activated_date IS NULL FROM esim.packages WHERE id = 'b'"), "t");
  EXPECT_EQ(db.scalar("SELECT package_template FROM esim.packages WHERE id = 'a'"), "21145354");
  EXPECT_EQ(db.scalar("SELECT raw->>'sim' FROM esim.packages WHERE id = 'a'"), "8914800000000000001");
  EXPECT_EQ(db.scalar("SELECT first_seen_at = updated_at AND removed_at IS NULL FROM esim.packages WHERE id = 'a'"), "t");
}

TEST_F(PgStoreTest, StatusChangeUpdatesTheRowAndRecordsOldToNew) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  PassCounts c = pass({pkg("a", "TERMINATED"), pkg("b", "ACTIVE")}, 60);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(c.unchanged, 1);
  EXPECT_EQ(c.status_changes, 1);
  EXPECT_EQ(history(), (History{"a:->ACTIVE", "b:->ACTIVE", "a:ACTIVE>TERMINATED"}));
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'a'"), "TERMINATED");
  EXPECT_EQ(db.scalar("SELECT changed_at = to_timestamp(1764000060) FROM esim.package_status_history "
                      "WHERE new_status = 'TERMINATED'"),
            "t");
}

TEST_F(PgStoreTest, OtherFieldChangesUpdateWithoutHistory) {
  pass({pkg("a", "ACTIVE")}, 0);
  Package moved = pkg("a", "ACTIVE", "8914800000000000999");
  PassCounts c = pass({moved}, 60);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(c.status_changes, 0);
  EXPECT_EQ(history(), (History{"a:->ACTIVE"}));
  EXPECT_EQ(db.scalar("SELECT sim FROM esim.packages WHERE id = 'a'"), "8914800000000000999");
  EXPECT_EQ(db.scalar("SELECT updated_at > first_seen_at FROM esim.packages WHERE id = 'a'"), "t");
}

TEST_F(PgStoreTest, NoOpPassWritesNothingAtAll) {
  pass({pkg("a", "ACTIVE"), pkg("b", "SUSPENDED")}, 0);
  std::string xmins = db.scalar("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM esim.packages");
  PassCounts c = pass({pkg("a", "ACTIVE"), pkg("b", "SUSPENDED")}, 60);
  EXPECT_EQ(c.unchanged, 2);
  EXPECT_EQ(c.updated + c.inserted + c.removed + c.status_changes, 0);
  EXPECT_EQ(db.scalar("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM esim.packages"), xmins);
  EXPECT_EQ(history().size(), 2u);
}

TEST_F(PgStoreTest, AbsenceProvenByLookupIsRemovedWithATransitionToNull) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  PassCounts c = pass({pkg("a", "ACTIVE")}, 60, true, {"b"});
  EXPECT_EQ(c.removed, 1);
  EXPECT_EQ(c.removed_by_lookup, 1);
  EXPECT_EQ(c.removals_deferred, 0);
  EXPECT_EQ(history().back(), "b:ACTIVE>-");
  EXPECT_EQ(db.scalar("SELECT removed_at = to_timestamp(1764000060) FROM esim.packages WHERE id = 'b'"), "t");
  // Still absent next time: nothing more is written.
  std::string xmin = db.scalar("SELECT xmin FROM esim.packages WHERE id = 'b'");
  EXPECT_EQ(pass({pkg("a", "ACTIVE")}, 120).removed, 0);
  EXPECT_EQ(db.scalar("SELECT xmin FROM esim.packages WHERE id = 'b'"), xmin);
  EXPECT_EQ(history().size(), 3u);
}

TEST_F(PgStoreTest, UnprovenAbsenceWaitsForASecondWalk) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  PassCounts first = pass({pkg("a", "ACTIVE")}, 60);
  EXPECT_EQ(first.removed, 0);
  EXPECT_EQ(first.removals_deferred, 1);
  EXPECT_EQ(db.scalar("SELECT package_id || ' ' || (first_missed_at = to_timestamp(1764000060)) "
                      "FROM esim.removal_candidates"),
            "b true");
  PassCounts second = pass({pkg("a", "ACTIVE")}, 120);
  EXPECT_EQ(second.removed, 1);
  EXPECT_EQ(second.removed_by_second_walk, 1);
  EXPECT_EQ(history().back(), "b:ACTIVE>-");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.removal_candidates"), "0");
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', removed, removed_by_lookup, removed_by_second_walk, removals_deferred) "
                      "FROM esim.sync_runs ORDER BY id DESC LIMIT 1"),
            "1,0,1,0");
}

TEST_F(PgStoreTest, ACandidateListedAgainStartsAfresh) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  pass({pkg("a", "ACTIVE")}, 60);                       // b missed once
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 120);  // listed again: forgotten
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.removal_candidates"), "0");
  EXPECT_EQ(pass({pkg("a", "ACTIVE")}, 180).removed, 0);  // a first miss again, not a second
  EXPECT_EQ(history().size(), 2u);
}

TEST_F(PgStoreTest, GuardedPassNeverRemoves) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  PassCounts c = pass({pkg("a", "SUSPENDED")}, 60, /*removals=*/false, {"b"});
  EXPECT_EQ(c.removed, 0);
  EXPECT_EQ(c.status_changes, 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NULL"), "2");
}

TEST_F(PgStoreTest, ReappearingPackageIsListedAgainFromNull) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  pass({pkg("a", "ACTIVE")}, 60, true, {"b"});
  PassCounts c = pass({pkg("a", "ACTIVE"), pkg("b", "SUSPENDED")}, 120);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(c.inserted, 0);
  EXPECT_EQ(history(), (History{"a:->ACTIVE", "b:->ACTIVE", "b:ACTIVE>-", "b:->SUSPENDED"}));
  EXPECT_EQ(db.scalar("SELECT removed_at IS NULL AND status = 'SUSPENDED' FROM esim.packages WHERE id = 'b'"), "t");
}

TEST_F(PgStoreTest, DuplicateIdInOnePassIsKeptOnceWithTheLaterSighting) {
  PassCounts c = pass({pkg("a", "NOT_ACTIVE"), pkg("b", "ACTIVE"), pkg("a", "ACTIVE")}, 0);
  EXPECT_EQ(c.packages_seen, 2);
  EXPECT_EQ(c.inserted, 2);
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'a'"), "ACTIVE");
  EXPECT_EQ(history(), (History{"a:->ACTIVE", "b:->ACTIVE"}));
}

// In a later pass too the later sighting wins, even when it is the one that equals the mirror
// (the package moved and moved back while the listing shifted under the walk).
TEST_F(PgStoreTest, DuplicateIdInALaterPassKeepsTheLaterSighting) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  PassCounts c = pass({pkg("a", "SUSPENDED"), pkg("b", "ACTIVE"), pkg("a", "ACTIVE")}, 60);
  EXPECT_EQ(c.packages_seen, 2);
  EXPECT_EQ(c.updated, 0);
  EXPECT_EQ(c.unchanged, 2);
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'a'"), "ACTIVE");
  c = pass({pkg("a", "ACTIVE"), pkg("c", "ACTIVE"), pkg("b", "ACTIVE"), pkg("a", "TERMINATED"), pkg("c", "SUSPENDED")}, 120);
  EXPECT_EQ(c.packages_seen, 3);
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(history(), (History{"a:->ACTIVE", "b:->ACTIVE", "a:ACTIVE>TERMINATED", "c:->SUSPENDED"}));
}

// Another text for the same JSON (key order, spaces) only refreshes the fingerprint: no update,
// no version, no transition.
TEST_F(PgStoreTest, TheSameJsonInOtherWordsIsUnchanged) {
  pass({pkg("a", "ACTIVE")}, 0);
  Package same = pkg("a", "ACTIVE");
  same.raw_json = R"({ "sim": "8914800000000000001", "status": "ACTIVE", "id": "a" })";
  PassCounts c = pass({same}, 60);
  EXPECT_EQ(c.updated, 0);
  EXPECT_EQ(c.unchanged, 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), "0");
  EXPECT_EQ(history().size(), 1u);
  const std::string fingerprint = db.scalar("SELECT raw_fingerprint FROM esim.packages");
  Package changed = same;
  changed.raw_json = R"({ "sim": "8914800000000000001", "status": "ACTIVE", "id": "a", "note": 1 })";
  c = pass({changed}, 120);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), "1");
  EXPECT_NE(db.scalar("SELECT raw_fingerprint FROM esim.packages"), fingerprint);
}

TEST_F(PgStoreTest, UncommittedPassLeavesTheDatabaseAsItWas) {
  pass({pkg("a", "ACTIVE")}, 0);
  auto run = store.start_run(at(60), 900s);
  {
    auto staging = store.open_pass(run);
    staging->stage({pkg("a", "TERMINATED"), pkg("new", "ACTIVE")});
  }  // dropped without an apply, as when the API fails halfway
  store.fail_run(run, "GET ... offset=100: HTTP 500");
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'a'"), "ACTIVE");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "1");
  EXPECT_EQ(history().size(), 1u);
  EXPECT_EQ(db.scalar("SELECT status || ': ' || error FROM esim.sync_runs WHERE id = " + std::to_string(run)),
            "failed: GET ... offset=100: HTTP 500");
  // And the next pass starts from a clean staging table.
  EXPECT_EQ(pass({pkg("a", "ACTIVE")}, 120).packages_seen, 1);
}

TEST_F(PgStoreTest, RunRowCarriesTheCounts) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  pass({pkg("a", "SUSPENDED"), pkg("c", "NOT_ACTIVE")}, 60, true, {"b"});
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', status, packages_seen, inserted, updated, unchanged, removed, "
                      "status_changes) FROM esim.sync_runs ORDER BY id DESC LIMIT 1"),
            "succeeded,2,1,1,0,1,1");
  EXPECT_EQ(db.scalar("SELECT finished_at >= started_at FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "t");
}

// Epoch milliseconds to timestamptz by integer arithmetic: exact to the millisecond at any
// instant PostgreSQL can hold, and an infinity beyond (the "never expires" 2^63-1).
TEST_F(PgStoreTest, DatesAreExactAtEveryInstantAndInfiniteBeyond) {
  auto dated = [](const std::string& id, std::int64_t ms) {
    Package p = pkg(id, "ACTIVE");
    p.expiry_date = ms;
    return p;
  };
  pass({dated("end9999", 253402300799999), dated("before1970", -1), dated("never", 9223372036854775807),
        dated("ancient", -300000000000000), dated("bc", -62135596800001), dated("far", 9224318015999999)},
       0);
  auto expiry = [&](const std::string& id) {
    return db.scalar("SELECT CASE WHEN isfinite(expiry_date) THEN to_char(expiry_date AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD HH24:MI:SS.US BC') ELSE expiry_date::text END FROM esim.packages WHERE id = '" +
                     id + "'");
  };
  EXPECT_EQ(expiry("end9999"), "9999-12-31 23:59:59.999000 AD");
  EXPECT_EQ(expiry("before1970"), "1969-12-31 23:59:59.999000 AD");
  EXPECT_EQ(expiry("bc"), "0001-12-31 23:59:59.999000 BC");
  EXPECT_EQ(expiry("far"), "294276-12-31 23:59:59.999000 AD");
  EXPECT_EQ(expiry("never"), "infinity");
  EXPECT_EQ(expiry("ancient"), "-infinity");
}

TEST_F(PgStoreTest, AwkwardTextSurvivesCopy) {
  Package p = pkg("odd\\id\twith\nbreaks", "ACTIVE", "sim\\\t\r\n€");
  p.raw_json = R"({"id":"odd\\id\twith\nbreaks","status":"ACTIVE","note":"tab\tback\\slash ünïcode"})";
  pass({p}, 0);
  EXPECT_EQ(db.scalar("SELECT sim FROM esim.packages"), "sim\\\t\r\n€");
  EXPECT_EQ(db.scalar("SELECT id FROM esim.packages"), "odd\\id\twith\nbreaks");
  EXPECT_EQ(db.scalar("SELECT raw->>'note' FROM esim.packages"), "tab\tback\\slash ünïcode");
}

TEST_F(PgStoreTest, ManyPagesAcrossSeveralCopyBatches) {
  std::vector<Package> all;
  for (int i = 0; i < 12'345; ++i) all.push_back(pkg("p" + std::to_string(i), i % 2 ? "ACTIVE" : "NOT_ACTIVE"));
  auto run = store.start_run(at(0), 900s);
  auto staging = store.open_pass(run);
  for (std::size_t i = 0; i < all.size(); i += 100) {
    staging->stage(std::vector<Package>(all.begin() + i, all.begin() + std::min(all.size(), i + 100)));
  }
  PassCounts c = esim::PassDiff::apply(esim::PassStaging::diff(std::move(staging)), {at(0), true, 1, ""});
  EXPECT_EQ(c.inserted, 12'345);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_status_history"), "12345");
}

TEST_F(PgStoreTest, SummaryCountsDuplicatesAndRemovalCandidates) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE"), pkg("c", "ACTIVE")}, 0);
  auto staging = store.open_pass(store.start_run(at(60), 900s));
  staging->stage({pkg("a", "ACTIVE"), pkg("a", "ACTIVE"), pkg("d", "ACTIVE")});
  esim::StagingSummary s = esim::PassStaging::diff(std::move(staging))->summary();
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.distinct_ids, 2);
  EXPECT_EQ(s.removal_candidates, 2);  // b and c
  EXPECT_EQ(s.live_packages, 3);
}

TEST_F(PgStoreTest, WithheldRemovalsLeaveAWarningOnTheRun) {
  pass({pkg("a", "ACTIVE"), pkg("b", "ACTIVE")}, 0);
  auto run = store.start_run(at(60), 900s);
  auto staging = store.open_pass(run);
  staging->stage({pkg("a", "ACTIVE")});
  esim::PassDiff::apply(esim::PassStaging::diff(std::move(staging)), {at(60), false, 3, "removal guard: test"});
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', status, removed, listing_attempts, warning, coalesce(error, '-')) "
                      "FROM esim.sync_runs WHERE id = " + std::to_string(run)),
            "succeeded,0,3,removal guard: test,-");
  EXPECT_EQ(db.scalar("SELECT removed_at IS NULL FROM esim.packages WHERE id = 'b'"), "t");
}

TEST_F(PgStoreTest, FirstLargeLoadEndsWithEveryIndexInPlace) {
  const std::string indexes = "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'esim'";
  const std::string before = db.scalar(indexes);
  std::vector<Package> all;
  for (int i = 0; i < 6000; ++i) all.push_back(pkg("p" + std::to_string(i), "ACTIVE", "sim" + std::to_string(i)));
  EXPECT_EQ(pass(all, 0).inserted, 6000);  // large enough to take the build-indexes-after path
  EXPECT_EQ(db.scalar(indexes), before);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE sim = 'sim4242'"), "1");
  EXPECT_EQ(pass(all, 60).unchanged, 6000);
}

// The page parser's bound on id, status and sim holds in every index they are in, however
// little the text compresses (PostgreSQL compresses index entries before it measures them).
TEST_F(PgStoreTest, TheLongestIdStatusAndSimTheParserTakesAreStoredAndChanged) {
  std::mt19937 random(5);
  auto noise = [&] {
    std::string s;
    static const char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (std::size_t i = 0; i < esim::kMaxIndexedTextBytes; ++i) s += kAlphabet[random() % 62];
    return s;
  };
  const std::string id = noise(), sim = noise();
  pass({pkg(id, noise(), sim)}, 0);
  PassCounts c = pass({pkg(id, noise(), sim)}, 60);
  EXPECT_EQ(c.status_changes, 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), "1");
}
