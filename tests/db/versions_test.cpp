// Every change on record: many passes of every kind of change through the real store, with the
// mirror snapshotted after each, then what BI asks of the versions (packages_as_of at any
// instant, daily stock per status, status intervals) checked against those snapshots.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "store/pg_store.h"
#include "support/test_database.h"

using esim::Package;
using esim::PassCounts;
using esim::PgStore;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

// The listed packages, as one comparable text: every typed column and raw, times as epoch
// milliseconds so the session's time zone cannot matter.
std::string listing_sql(const std::string& from) {
  return "SELECT coalesce(string_agg(concat_ws('|', id, sim, package_template, status, "
         "extract(epoch FROM created_date) * 1000, extract(epoch FROM activated_date) * 1000, "
         "extract(epoch FROM expiry_date) * 1000, raw::text), E'\\n' ORDER BY id), '') FROM " + from;
}
const std::string kListed = listing_sql("esim.packages WHERE removed_at IS NULL");

// Every package's state (listed or not, and its fields), and when it became so (updated_at).
const char* kStates = R"sql(
SELECT id, concat_ws('|', removed_at IS NULL, sim, package_template, status, created_date, activated_date,
                     expiry_date, raw::text), updated_at
  FROM esim.packages)sql";
struct State {
  std::string fields, since;
};

struct Model {
  std::map<std::string, Package> listed;     // what the API lists now
  std::map<std::string, Package> left;       // no longer listed (may come back)
  std::set<std::string> provable;            // of those, the ones a lookup proves gone
  std::map<std::string, int> note;           // a field of raw that nothing else reads
  int notes = 0, next_id = 0;
};

const std::vector<std::string> kStatuses = {"NOT_ACTIVE", "ACTIVE", "SUSPENDED", "TERMINATED"};
constexpr std::int64_t kDayMs = 86'400'000;

void set_raw(Package& p, int note) {
  // The typed fields in raw as the API sends them, and one more field.
  p.raw_json = R"({"id":")" + p.id + R"(","sim":")" + *p.sim + R"(","package_template":)" +
               std::to_string(*p.package_template) + R"(,"status":")" + p.status + R"(","expiry_date":)" +
               std::to_string(*p.expiry_date) + R"(,"note":)" + std::to_string(note) + "}";
}

Package fresh(Model& m) {
  Package p;
  p.id = "pkg" + std::to_string(m.next_id++);
  p.sim = "8914" + p.id;
  p.package_template = 21145350 + m.next_id % 3;
  p.status = "NOT_ACTIVE";
  p.created_date = 1'727'000'000'000 + m.next_id;
  p.expiry_date = 1'730'000'000'000 + m.next_id * 1000;
  set_raw(p, 0);
  return p;
}

class Versions : public ::testing::Test {
 protected:
  Versions() : store(db.url()) { store.migrate(); }

  // One pass listing `model.listed`; the live packages it lacks are proven gone by lookup when
  // in model.provable, else left to the two-walk rule.
  std::pair<esim::RunId, PassCounts> pass(const Model& model, esim::TimePoint at) {
    auto run = store.start_run(at, 900s);
    auto staging = store.open_pass(run);
    std::vector<Package> packages;
    for (const auto& [id, p] : model.listed) packages.push_back(p);
    staging->stage(packages);
    auto diff = esim::PassStaging::diff(std::move(staging));
    diff->add_proof({}, std::vector<std::string>(model.provable.begin(), model.provable.end()));
    return {run, esim::PassDiff::apply(std::move(diff), {at, true, 1, ""})};
  }

  std::map<std::string, State> states() {
    std::map<std::string, State> out;
    for (const auto& row : db.query(kStates)) out[row[0].c_str()] = {row[1].c_str(), row[2].c_str()};
    return out;
  }

  std::string started(esim::RunId run) {
    return db.scalar("SELECT started_at FROM esim.sync_runs WHERE id = " + std::to_string(run));
  }

  TestDatabase db;
  PgStore store;
};

// The mutations of one pass, drawn from a seeded generator.
void churn(Model& m, std::mt19937& rng) {
  auto chance = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(rng) < percent; };
  m.provable.clear();
  std::vector<std::string> leaving;
  for (auto& [id, p] : m.listed) {
    bool changed = false;
    if (chance(12)) {
      std::string next = kStatuses[std::uniform_int_distribution<std::size_t>(0, 3)(rng)];
      changed |= next != p.status;
      p.status = next;
    }
    if (chance(8)) {  // an extension
      *p.expiry_date += 30 * kDayMs;
      changed = true;
    }
    if (chance(5)) {  // another template
      *p.package_template += 7;
      changed = true;
    }
    if (chance(3)) {  // a SIM swap
      *p.sim += "9";
      changed = true;
    }
    if (chance(3)) {  // a field esim-sync does not type
      m.note[id] = ++m.notes;
      changed = true;
    }
    if (changed) set_raw(p, m.note[id]);
    if (chance(6)) leaving.push_back(id);
  }
  for (const std::string& id : leaving) {
    if (chance(60)) m.provable.insert(id);
    m.left[id] = m.listed[id];
    m.listed.erase(id);
  }
  std::vector<std::string> back;
  for (const auto& [id, p] : m.left) {
    if (leaving.end() == std::find(leaving.begin(), leaving.end(), id) && chance(25)) back.push_back(id);
  }
  for (const std::string& id : back) {
    Package p = m.left[id];
    if (chance(50)) {
      p.status = "ACTIVE";
      set_raw(p, m.note[id]);
    }
    m.listed[id] = p;
    m.left.erase(id);
  }
  for (int n = std::uniform_int_distribution<int>(0, 3)(rng); n > 0; --n) {
    Package p = fresh(m);
    m.listed[p.id] = p;
  }
}

}  // namespace

TEST_F(Versions, AsOfEveryPassEqualsTheMirrorThenAndVersionsFollowEachChange) {
  std::mt19937 rng(12);
  Model model;
  for (int i = 0; i < 40; ++i) {
    Package p = fresh(model);
    model.listed[p.id] = p;
  }
  // Passes 5 to 11 hours apart (plus odd milliseconds), so they straddle UTC midnights; one
  // lands exactly on a midnight and one a millisecond before another.
  auto at = esim::TimePoint(std::chrono::hours(24 * 20'000) + 10h);  // 2024-10-04 10:00 UTC
  std::vector<std::pair<esim::TimePoint, std::string>> snapshots;     // after each pass
  std::vector<std::map<std::string, std::int64_t>> counts;            // per status, after each pass
  std::string before = "";
  int noop_passes = 0, versions_total = 0;
  for (int pass_no = 0; pass_no < 36; ++pass_no) {
    if (pass_no == 12) at = esim::TimePoint(std::chrono::hours(24 * 20'006));                  // 00:00:00.000
    else if (pass_no == 20) at = esim::TimePoint(std::chrono::hours(24 * 20'010)) - 1ms;       // 23:59:59.999
    else if (pass_no > 0) at += std::chrono::hours(std::uniform_int_distribution<int>(5, 11)(rng)) +
                                std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 999)(rng));
    // Every 6th pass and the one after change nothing in the listing.
    const bool quiet = pass_no % 6 == 5 || pass_no % 6 == 0;
    if (pass_no > 0 && !quiet) churn(model, rng);
    if (quiet) model.provable.clear();

    auto old_states = states();
    const std::string xmins = db.scalar("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM esim.packages");
    const std::string versions_before = db.scalar("SELECT count(*) FROM esim.package_versions");
    auto [run, c] = pass(model, at);
    auto new_states = states();
    const std::string start = started(run);
    const std::string snapshot = db.scalar(kListed);

    // A version exactly for each package whose state changed, holding the state it replaced.
    int changed = 0;
    for (const auto& [id, state] : old_states) changed += new_states[id].fields != state.fields;
    const std::string r = std::to_string(run);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions WHERE run_id = " + r), std::to_string(changed))
        << "pass " << pass_no;
    EXPECT_EQ(changed, c.updated + c.removed) << "pass " << pass_no;
    for (const auto& row : db.query(
             "SELECT package_id, concat_ws('|', listed, sim, package_template, status, created_date, activated_date, "
             "expiry_date, raw::text), valid_to = (SELECT started_at FROM esim.sync_runs WHERE id = " + r + "), "
             "valid_from FROM esim.package_versions WHERE run_id = " + r)) {
      const State& replaced = old_states[row[0].c_str()];
      EXPECT_EQ(replaced.fields, row[1].c_str()) << "pass " << pass_no;
      EXPECT_EQ(replaced.since, row[3].c_str()) << "valid_from is when the replaced row became current";
      EXPECT_STREQ(row[2].c_str(), "t");
    }
    if (changed == 0 && pass_no > 0) {
      ++noop_passes;  // wrote nothing at all: no version, no package row touched
      EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), versions_before);
      EXPECT_EQ(db.scalar("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM esim.packages"), xmins);
    }
    versions_total += changed;

    // packages_as_of at the pass start is the mirror after it; a millisecond before, before it.
    EXPECT_EQ(db.scalar(listing_sql("esim.packages_as_of('" + start + "')")), snapshot) << "pass " << pass_no;
    EXPECT_EQ(db.scalar(listing_sql("esim.packages_as_of(timestamptz '" + start + "' - interval '1 millisecond')")),
              before)
        << "pass " << pass_no;
    std::map<std::string, std::int64_t> by_status;
    for (const auto& row : db.query("SELECT status, count(*) FROM esim.packages WHERE removed_at IS NULL GROUP BY 1")) {
      by_status[row[0].c_str()] = row[1].as<std::int64_t>();
    }
    // The status intervals covering the pass start count the same.
    std::string intervals;
    for (const auto& row : db.query("SELECT status, count(*) FROM esim.package_status_intervals WHERE valid_from <= '" +
                                    start + "' AND (valid_to IS NULL OR valid_to > '" + start + "') GROUP BY 1 ORDER BY 1")) {
      intervals += std::string(row[0].c_str()) + "=" + row[1].c_str() + " ";
    }
    std::string expected_intervals;
    for (const auto& [status, n] : by_status) expected_intervals += status + "=" + std::to_string(n) + " ";
    EXPECT_EQ(intervals, expected_intervals) << "pass " << pass_no;
    snapshots.emplace_back(at, snapshot);
    counts.push_back(by_status);
    before = snapshot;
  }
  EXPECT_GE(noop_passes, 5);
  EXPECT_GE(versions_total, 100);
  // Every kind of change happened, and each reads as a field change.
  EXPECT_EQ(db.scalar("SELECT string_agg(DISTINCT field, ',' ORDER BY field) FROM esim.package_changes "
                      "WHERE field NOT LIKE 'raw.%' OR field = 'raw.note'"),
            "expiry_date,listed,package_template,raw.note,sim,status");
  EXPECT_EQ(db.scalar("SELECT count(*) FILTER (WHERE old_value = 'false') > 0 AND count(*) FILTER (WHERE old_value = 'true') > 0 "
                      "FROM esim.package_changes WHERE field = 'listed'"),
            "t");  // removals and returns

  // Daily stock: the counts after the last pass of each UTC day, carried over days without a
  // pass, through today; the same whatever the session's time zone.
  const auto day_of = [](esim::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::hours>(t.time_since_epoch()).count() / 24;
  };
  const long long today = std::stoll(db.scalar("SELECT (now() AT TIME ZONE 'UTC')::date - date '1970-01-01'"));
  std::string expected;
  std::size_t last = 0;
  for (long long day = day_of(snapshots.front().first); day <= today; ++day) {
    while (last + 1 < snapshots.size() && day_of(snapshots[last + 1].first) <= day) ++last;
    for (const auto& [status, n] : counts[last]) expected += std::to_string(day) + " " + status + "=" + std::to_string(n) + ",";
  }
  for (const char* zone : {"UTC", "Pacific/Kiritimati", "America/Los_Angeles"}) {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec(std::string("SET TimeZone = '") + zone + "'");
    EXPECT_EQ(tx.exec1("SELECT string_agg((day - date '1970-01-01') || ' ' || status || '=' || packages || ',', '' "
                       "ORDER BY day, status) FROM esim.status_counts_daily WHERE packages <> 0")[0]
                  .c_str(),
              expected)
        << zone;
  }
}

TEST_F(Versions, FirstLoadWritesNoVersions) {
  Model model;
  for (int i = 0; i < 6000; ++i) {  // large enough for the build-indexes-after path
    Package p = fresh(model);
    model.listed[p.id] = p;
  }
  EXPECT_EQ(pass(model, esim::TimePoint(std::chrono::hours(24 * 20'000))).second.inserted, 6000);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), "0");
}
