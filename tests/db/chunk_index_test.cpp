// The chunk index (migration 0012) is a claim about the mirror: a stored chunk's members have,
// in esim.packages now, exactly the ids and fingerprints its digest was taken over, and every
// live package is in one chunk or in none. A pass that trusts a false claim would miss a change
// or a removal, so these tests churn a listing at random (texts, statuses, arrivals, removals,
// a block moved, a listing that shifts while it is paged) and, after every pass, check the
// mirror against the listing and the index against the mirror, digest by digest.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "store/fingerprint.h"
#include "store/listing_chunks.h"
#include "store/pg_store.h"
#include "support/test_database.h"
#include "sync/sync_pass.h"
#include "unit/fakes.h"

using esim::Package;
using esim::PgStore;
using esim::SyncPass;
using esim::fakes::FakeClock;
using esim::fakes::FakePageSource;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

const char* const kStatuses[] = {"NOT_ACTIVE", "ACTIVE", "SUSPENDED", "TERMINATED"};

Package make(int n, const std::string& status, int spaces = 0) {
  Package p = esim::fakes::package("pkg_" + std::to_string(n), status);
  p.raw_json = "{\"id\":\"" + p.id + "\"," + std::string(spaces, ' ') + "\"status\":\"" + status + "\"}";
  return p;
}

class ChunkIndex : public ::testing::Test {
 protected:
  ChunkIndex() : store(db.url(), 0ms, nullptr) {
    store.migrate();
    settings.page_size = 37;  // pages that never line up with chunks
  }

  esim::PassOutcome pass() {
    clock.at += 15min;
    return SyncPass(source, store, clock, settings).run();
  }

  // The index describes the mirror: one row per live package and none for another, sizes that
  // add up, and every stored digest equal to the one taken again over the mirror's own ids and
  // fingerprints in the members' order.
  void expect_index_describes_mirror() {
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages p WHERE p.removed_at IS NULL AND NOT EXISTS "
                        "(SELECT 1 FROM esim.listing_chunk_members m WHERE m.package_id = p.id)"),
              "0")
        << "a live package in no row of the index would never be a removal candidate";
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.listing_chunk_members m LEFT JOIN esim.packages p "
                        "ON p.id = m.package_id WHERE p.id IS NULL OR p.removed_at IS NOT NULL"),
              "0");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.listing_chunks c WHERE c.size <> "
                        "(SELECT count(*) FROM esim.listing_chunk_members m WHERE m.anchor = c.anchor)"),
              "0");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.listing_chunk_members m WHERE m.anchor IS NOT NULL AND NOT EXISTS "
                        "(SELECT 1 FROM esim.listing_chunks c WHERE c.anchor = m.anchor)"),
              "0");
    std::string digest, members_digest;
    std::int64_t expected_position = 0;
    esim::ChunkCutter cutter;
    auto check = [&] {
      if (digest.empty()) return;
      const esim::ChunkDigests taken = cutter.take_digests();
      EXPECT_EQ(esim::as_uuid(taken.content), digest) << "a stored chunk no longer matches the mirror";
      EXPECT_EQ(esim::as_uuid(taken.members), members_digest) << "a stored chunk's members are others";
    };
    for (const auto& row : db.query("SELECT c.digest, m.position, m.package_id, p.raw_fingerprint, c.anchor, "
                                    "c.members_digest "
                                    "FROM esim.listing_chunk_members m JOIN esim.listing_chunks c ON c.anchor = m.anchor "
                                    "JOIN esim.packages p ON p.id = m.package_id ORDER BY c.anchor, m.position")) {
      if (row[0].c_str() != digest) {
        check();
        digest = row[0].c_str();
        members_digest = row[5].c_str();
        expected_position = 0;
        EXPECT_EQ(row[2].as<std::string>(), row[4].as<std::string>()) << "a chunk is known by its first package";
      }
      EXPECT_EQ(row[1].as<std::int64_t>(), expected_position++);
      esim::Hash128 fingerprint;
      ASSERT_TRUE(esim::parse_uuid(row[3].c_str(), fingerprint));
      cutter.add(row[2].c_str(), fingerprint);
    }
    check();
  }

  // The mirror holds exactly the listing: the same live ids, each with the text listed.
  void expect_mirror_is(const std::vector<Package>& listing) {
    std::map<std::string, std::string> want;
    for (const Package& p : listing) want[p.id] = p.raw_json;
    std::map<std::string, std::string> have;
    for (const auto& row : db.query("SELECT id, raw::text FROM esim.packages WHERE removed_at IS NULL")) {
      have[row[0].c_str()] = row[1].c_str();
    }
    ASSERT_EQ(have.size(), want.size());
    for (const auto& [id, raw] : want) {
      ASSERT_EQ(have.count(id), 1u) << id << " is listed but not live in the mirror";
      EXPECT_EQ(nlohmann::json::parse(have[id]), nlohmann::json::parse(raw)) << id;
    }
  }

  std::string index_xmins() {
    return db.scalar("SELECT coalesce(string_agg(xmin::text, ',' ORDER BY anchor), '') FROM esim.listing_chunks") +
           "|" + db.scalar("SELECT coalesce(sum(xmin::text::bigint), 0) FROM esim.listing_chunk_members");
  }

  TestDatabase db;
  PgStore store;
  FakePageSource source;
  FakeClock clock;
  esim::SyncSettings settings;
};

}  // namespace

// Forty passes of random churn: every transition recorded exactly once, the mirror equal to the
// listing after each pass, and the index true to the mirror.
TEST_F(ChunkIndex, RandomChurnKeepsTheMirrorExactAndTheIndexTrue) {
  std::mt19937 random(24);
  int next_id = 0;
  for (; next_id < 1500; ++next_id) source.listing.push_back(make(next_id, kStatuses[next_id % 4]));
  ASSERT_TRUE(pass().succeeded());
  std::int64_t transitions = 1500;
  expect_index_describes_mirror();
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  // What the mirror holds after each pass, id to status: the listing, less a package that
  // arrived behind the walk (at an offset it had already paged), which the next pass finds.
  auto statuses = [&](const std::string& unseen) {
    std::map<std::string, std::string> of;
    for (const Package& p : source.listing) {
      if (p.id != unseen) of[p.id] = p.status;
    }
    return of;
  };
  std::map<std::string, std::string> mirror = statuses("");
  for (int round = 0; round < 40; ++round) {
    std::vector<Package>& listing = source.listing;
    for (int i = 0; i < 10; ++i) {  // statuses move: a version and a transition each
      Package& p = listing[pick(listing.size())];
      std::string status;
      do status = kStatuses[pick(4)]; while (status == p.status);
      p = make(std::stoi(p.id.substr(4)), status);
    }
    {  // the same JSON written another way: not a change
      Package& p = listing[pick(listing.size())];
      p = make(std::stoi(p.id.substr(4)), p.status, 1 + round % 3);
    }
    for (int i = 0; i < 3; ++i) {  // arrivals anywhere
      listing.insert(listing.begin() + static_cast<std::ptrdiff_t>(pick(listing.size())), make(next_id++, "NOT_ACTIVE"));
    }
    for (int i = 0; i < 3; ++i) {  // departures, proven by lookup
      listing.erase(listing.begin() + static_cast<std::ptrdiff_t>(pick(listing.size())));
    }
    if (round % 5 == 2) {  // a block of the listing moves elsewhere
      const std::size_t from = pick(listing.size() - 100);
      std::rotate(listing.begin() + static_cast<std::ptrdiff_t>(from),
                  listing.begin() + static_cast<std::ptrdiff_t>(from + 60),
                  listing.begin() + static_cast<std::ptrdiff_t>(from + 100));
    }
    std::string behind_the_walk;
    if (round % 7 == 3) {  // while the walk pages, a package arrives at the front: one is then seen twice
      behind_the_walk = "pkg_" + std::to_string(next_id);
      source.before_page = [&, armed = true, at = source.asked.size() + 5](FakePageSource& s) mutable {
        if (armed && s.asked.size() == at) {
          s.listing.insert(s.listing.begin(), make(next_id++, "ACTIVE"));
          armed = false;
        }
      };
    }
    const esim::PassOutcome outcome = pass();
    source.before_page = nullptr;
    ASSERT_TRUE(outcome.succeeded()) << "round " << round << ": " << outcome.error;
    if (!behind_the_walk.empty()) {
      EXPECT_TRUE(outcome.listing_moved) << "round " << round << " saw a package twice";
    }
    EXPECT_EQ(outcome.counts.removals_deferred, 0) << "round " << round;
    std::vector<Package> seen;
    for (const Package& p : listing) {
      if (p.id != behind_the_walk) seen.push_back(p);
    }
    expect_mirror_is(seen);
    // Every status that moved, every arrival and every departure: one transition each.
    const std::map<std::string, std::string> now = statuses(behind_the_walk);
    for (const auto& [id, status] : now) transitions += mirror.count(id) == 0 || mirror.at(id) != status;
    for (const auto& [id, status] : mirror) transitions += now.count(id) == 0;
    mirror = now;
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_status_history"), std::to_string(transitions))
        << "round " << round;
    expect_index_describes_mirror();
    if (HasFailure()) return;
  }
}

// A pass over an unchanged listing writes nothing to the index and sends its chunks' digests
// alone: a small fraction of what it received.
TEST_F(ChunkIndex, ANoOpPassSendsDigestsAndWritesNothing) {
  for (int i = 0; i < 3000; ++i) source.listing.push_back(make(i, kStatuses[i % 4]));
  ASSERT_TRUE(pass().succeeded());
  ASSERT_TRUE(pass().succeeded());  // the first after a load may still settle the index
  const std::string before = index_xmins();
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.unchanged, 3000);
  EXPECT_EQ(index_xmins(), before) << "a no-op pass rewrote the chunk index";
  expect_index_describes_mirror();
}

// The first pass after the upgrade (every live package in no chunk) cuts the chunks without
// changing or removing anything; the pass after it lists every chunk as known.
TEST_F(ChunkIndex, AMirrorWithoutChunksIsChunkedByItsNextPassAndNothingElseChanges) {
  for (int i = 0; i < 2000; ++i) source.listing.push_back(make(i, kStatuses[i % 4]));
  ASSERT_TRUE(pass().succeeded());
  db.exec("TRUNCATE esim.listing_chunks; UPDATE esim.listing_chunk_members SET anchor = NULL, position = NULL");
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.unchanged, 2000);
  EXPECT_EQ(outcome.counts.removed + outcome.counts.inserted + outcome.counts.updated, 0);
  EXPECT_NE(db.scalar("SELECT count(*) FROM esim.listing_chunks"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.listing_chunk_members WHERE anchor IS NULL"), "0");
  expect_index_describes_mirror();
}

// A write to the mirror that no pass made (a DBA's hand, a later migration) may make a chunk's
// claim false: the index is built afresh before the next pass, which finds what the hand did.
TEST_F(ChunkIndex, AHandEditedMirrorIsPutRightByTheNextPass) {
  for (int i = 0; i < 500; ++i) source.listing.push_back(make(i, "ACTIVE"));
  ASSERT_TRUE(pass().succeeded());
  ASSERT_TRUE(pass().succeeded());
  // A listed package deleted by hand (its chunk still names it), and an unlisted one inserted.
  db.exec("DELETE FROM esim.package_status_history WHERE package_id = 'pkg_7'");
  db.exec("DELETE FROM esim.packages WHERE id = 'pkg_7'");
  db.exec("INSERT INTO esim.packages (id, status, raw, raw_fingerprint, stable_fingerprint, first_seen_at, updated_at) "
          "SELECT 'by_hand', 'ACTIVE', '{}', gen_random_uuid(), gen_random_uuid(), min(first_seen_at), min(first_seen_at) "
          "FROM esim.packages");
  EXPECT_EQ(db.scalar("SELECT rebuild::text FROM esim.listing_index"), "true");
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.inserted, 1) << "the listed package deleted by hand is listed again";
  EXPECT_EQ(outcome.counts.removed, 1) << "the package inserted by hand is no longer listed";
  expect_mirror_is(source.listing);
  expect_index_describes_mirror();
  EXPECT_EQ(db.scalar("SELECT rebuild::text FROM esim.listing_index"), "false");
}

// A large first load drops the index's key and builds it after the data; one that meets an id
// twice keeps the later sighting, stores no chunk holding it, and ends with the key in place.
TEST_F(ChunkIndex, ALargeFirstLoadWithAnIdTwiceEndsWithATrueIndexAndItsKey) {
  for (int i = 0; i < 6000; ++i) source.listing.push_back(make(i, kStatuses[i % 4]));
  source.listing.push_back(make(42, "TERMINATED"));  // pkg_42 again, later, in another status
  const esim::PassOutcome outcome = pass();
  ASSERT_TRUE(outcome.succeeded()) << outcome.error;
  EXPECT_EQ(outcome.counts.inserted, 6000);
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'pkg_42'"), "TERMINATED");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'esim.listing_chunk_members'::regclass "
                      "AND contype = 'p'"),
            "1");
  EXPECT_EQ(db.scalar("SELECT anchor IS NULL FROM esim.listing_chunk_members WHERE package_id = 'pkg_42'"), "t");
  expect_index_describes_mirror();
  source.listing.erase(source.listing.begin() + 42);  // the listing as the mirror now has it
  ASSERT_TRUE(pass().succeeded());
  expect_mirror_is(source.listing);
  expect_index_describes_mirror();
}
