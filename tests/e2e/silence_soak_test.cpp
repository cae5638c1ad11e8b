// The proof's soak: hundreds of passes over an honestly churning listing whose server is now and
// then silent rather than wrong (the account answers as empty for a pass, rows dropped from a
// page after paging, pages cut by bytes, lookups that answer nothing or leave out all but ACTIVE,
// SIMs that held \u0000, packages that move to another SIM, a 400 past the end, a total of
// 2^63-1, a configuration that names another account), mixed with lagging totals, drift and
// server errors. After every pass:
// - a failed or refused pass changed nothing;
// - no package the simulator lists was removed, and no package "reappeared" that had not really
//   gone and come back;
// - every package the server really removed is removed within two honest passes
//   (docs/failure-behaviour.md, "The bound");
// and at the end every transition is recorded exactly once, and the mirror equals the truth.
// ESIM_SILENCE_SOAK_PASSES and ESIM_SOAK_SEED change its size and seed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::env_or;
using esim::testing::read_file;

namespace {

using State = std::map<std::string, std::string>;  // id -> status

// The misbehaviours of one pass, drawn at random.
struct Weather {
  bool empty_account = false, lookups_empty = false, lookups_omit = false, byte_cap = false, past_end = false;
  bool huge_total = false, lagging = false, drift = false, errors = false;
  // Whether the server answered honestly, so that the liveness bound applies to this pass.
  bool honest() const { return !empty_account && !lookups_empty && !lookups_omit && !drift; }
  std::string listing_query() const {
    return std::string("/_sim/listing?empty_account=") + (empty_account ? "1" : "0") +
           "&lookups=" + (lookups_empty ? "empty" : lookups_omit ? "omit" : "honest") +
           "&max_bytes=" + (byte_cap ? "6000" : "0") + "&past_end=" + (past_end ? "400" : "0") +
           "&total=" + (huge_total ? "absurd&absurd_total=9223372036854775807" : lagging ? "frozen" : "truth");
  }
};

}  // namespace

class SilenceSoak : public EndToEnd {
 protected:
  SilenceSoak()
      : EndToEnd({"--packages", "600", "--seed", std::to_string(env_or("ESIM_SOAK_SEED", 5)), "--fault-seed",
                  std::to_string(env_or("ESIM_SOAK_SEED", 5)), "--other-user-id", "reseller-2"}) {
    config_ = read_file(dir.file("config.yaml")) + "sync:\n  max_removed_fraction: 0.5\n";
    dir.write("config.yaml", config_);
  }

  // A pass run with a configuration that names the server's other account.
  esim::testing::RunResult as_the_other_account() {
    std::string other = config_;
    other.replace(other.find("user_id: reseller-1"), 19, "user_id: reseller-2");
    dir.write("other.yaml", other);
    return esim::testing::run_command({ESIM_SYNC_BINARY, "once", "--config", dir.file("other.yaml")},
                                      {{"E2E_API_KEY", esim::testing::kSimKey}});
  }

  std::string random_listed(std::mt19937_64& rng) {
    auto truth = sim.truth();
    return std::next(truth.begin(), static_cast<long>(rng() % truth.size()))->first;
  }

  std::string config_;
};

TEST_F(SilenceSoak, NoFalseRemovalNoFalseReappearanceAndRealRemovalsWithinTheBound) {
  const long passes = env_or("ESIM_SILENCE_SOAK_PASSES", 200);
  std::mt19937_64 rng(static_cast<std::uint64_t>(env_or("ESIM_SOAK_SEED", 5)));
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  std::vector<State> states{mirror()};
  std::set<std::string> came_back;               // really gone once and listed again
  std::map<std::string, int> awaiting_removal;   // really gone: honest passes since
  std::set<std::string> unpaged;                 // listed, but dropped from the pages now
  int failed = 0, refused = 0, held = 0, silent = 0;
  long long removed = 0, inconclusive = 0, recovered = 0;

  for (long pass = 0; pass < passes; ++pass) {
    // The world moves honestly: lifecycle steps, arrivals, departures (the simulator's churn
    // removes a few at random too), a package that goes or comes back, one soft-deleted.
    ASSERT_EQ(sim.post("/_sim/step?fraction=" + std::to_string(0.002 + 0.01 * (rng() % 100) / 100.0)), 200);
    const State truth_before_changes = sim.truth();
    if (rng() % 3 == 0) {
      const std::string id = random_listed(rng);
      if (sim.post("/_sim/packages/" + id + (rng() % 2 ? "/hide" : "/ghost")) == 200) awaiting_removal[id] = 0;
    }
    if (rng() % 5 == 0) {  // a package dropped from the pages (it is still the account's)
      const std::string id = random_listed(rng);
      if (sim.post("/_sim/packages/" + id + "/unpaged") == 200) unpaged.insert(id);
    }
    if (!unpaged.empty() && rng() % 3 == 0) {  // listed in the pages again (404: it went meanwhile)
      ASSERT_NE(sim.post("/_sim/packages/" + *unpaged.begin() + "/paged"), 500);
      unpaged.erase(unpaged.begin());
    }
    if (rng() % 5 == 0) {  // a new SIM, or one that held \u0000
      sim.post("/_sim/packages/" + random_listed(rng) + "/move-sim" + (rng() % 2 ? "?to=8914800000%5Cu00007" : ""));
    }
    // Departures of the churn step are real removals too.
    for (const auto& [id, status] : states.back()) {
      if (!truth_before_changes.count(id) && !awaiting_removal.count(id)) awaiting_removal[id] = 0;
    }
    for (auto it = awaiting_removal.begin(); it != awaiting_removal.end();) {
      if (truth_before_changes.count(it->first) && sim.truth().count(it->first)) {
        came_back.insert(it->first);  // unhidden by nobody here, but the churn may list it again
        it = awaiting_removal.erase(it);
      } else {
        ++it;
      }
    }

    Weather w;
    w.empty_account = rng() % 12 == 0;
    w.lookups_empty = rng() % 8 == 0;
    w.lookups_omit = !w.lookups_empty && rng() % 8 == 0;
    w.byte_cap = rng() % 5 == 0;
    w.past_end = rng() % 6 == 0;
    w.huge_total = rng() % 10 == 0;
    w.lagging = !w.huge_total && rng() % 6 == 0;
    w.drift = rng() % 6 == 0;
    w.errors = rng() % 6 == 0;
    silent += w.honest() ? 0 : 1;
    ASSERT_EQ(sim.post(w.listing_query()), 200);
    ASSERT_EQ(sim.post("/_sim/drift?anywhere=1&every=" + std::string(w.drift ? "7" : "0")), 200);
    if (w.errors) {
      ASSERT_EQ(sim.post("/_sim/fail?after=" + std::to_string(rng() % 8) + "&times=3&status=503"), 200);
    }

    const std::string before = snapshot();
    if (rng() % 15 == 0) {  // a configuration copied from the other account
      auto wrong = as_the_other_account();
      ASSERT_EQ(wrong.exit_code, 7) << wrong.err;
      ASSERT_EQ(snapshot(), before) << "pass " << pass << ": another account's pass wrote something";
      ++refused;
    }
    const State mirror_before = mirror();
    const long long history_before = std::stoll(db.scalar("SELECT count(*) FROM esim.package_status_history"));
    auto result = esim_sync("once");
    const State truth_after = sim.truth();
    if (result.exit_code != 0) {
      ASSERT_EQ(result.exit_code, 1) << result.err;
      ASSERT_EQ(snapshot(), before) << "pass " << pass << " failed but changed the mirror";
      ++failed;
      continue;
    }
    ASSERT_EQ(falsely_removed(), "") << "pass " << pass << "\n" << result.err;
    // Reappearances: a package the mirror held (live or removed) listed as new again.
    for (const auto& row : db.query("SELECT package_id FROM esim.package_status_history WHERE old_status IS NULL "
                                    "AND id > " + std::to_string(history_before) +
                                    " AND package_id IN (SELECT package_id FROM esim.package_status_history WHERE id <= " +
                                    std::to_string(history_before) + ")")) {
      ASSERT_TRUE(came_back.count(row[0].c_str())) << "pass " << pass << ": " << row[0].c_str()
                                                   << " reappeared without having gone\n" << result.err;
    }
    held += last_run("removals_held") == "true" ? 1 : 0;
    removed += std::stoll(last_run("removed"));
    inconclusive += std::stoll(last_run("lookups_inconclusive"));
    recovered += std::stoll(last_run("recovered_by_lookup"));
    const State now = mirror();
    states.push_back(now);
    // The bound: a package really gone is removed within two honest passes.
    for (auto it = awaiting_removal.begin(); it != awaiting_removal.end();) {
      if (!now.count(it->first)) {
        it = awaiting_removal.erase(it);
        continue;
      }
      if (w.honest() && ++it->second > 2) {
        FAIL() << "pass " << pass << ": " << it->first << " is gone from the server and still live after "
               << it->second << " honest passes\n" << result.err;
      }
      ++it;
    }
    (void)mirror_before;
  }

  // Two quiet, honest passes: the mirror is the truth.
  ASSERT_EQ(sim.post(Weather{}.listing_query()), 200);
  ASSERT_EQ(sim.post("/_sim/drift?every=0"), 200);
  ASSERT_EQ(sim.post("/_sim/fail?times=0"), 200);
  for (const std::string& id : unpaged) ASSERT_NE(sim.post("/_sim/packages/" + id + "/paged"), 500);
  for (int i = 0; i < 2; ++i) {
    auto last = esim_sync("once");
    ASSERT_EQ(last.exit_code, 0) << last.err;
    states.push_back(mirror());
  }
  EXPECT_EQ(mirror(), sim.truth());

  // Every transition once: the history is exactly the sequence of states the mirror went through.
  std::map<std::string, std::vector<std::string>> actual, expected;
  for (const auto& row : db.query("SELECT package_id, coalesce(old_status, '-') || '>' || coalesce(new_status, '-') "
                                  "FROM esim.package_status_history ORDER BY id")) {
    actual[row[0].c_str()].push_back(row[1].c_str());
  }
  std::map<std::string, std::string> last;
  for (const State& state : states) {
    for (const auto& [id, status] : state) {
      const std::string was = last.count(id) ? last[id] : "-";
      if (was != status) expected[id].push_back(was + ">" + status);
      last[id] = status;
    }
    for (auto& [id, status] : last) {
      if (status != "-" && !state.count(id)) {
        expected[id].push_back(status + ">-");
        status = "-";
      }
    }
  }
  std::size_t mismatches = 0;
  for (const auto& [id, transitions] : expected) {
    if (actual[id] != transitions && ++mismatches <= 5) ADD_FAILURE() << "history of " << id << " differs";
  }
  ASSERT_EQ(mismatches, 0u);
  EXPECT_EQ(actual.size(), expected.size());
  std::cout << "silence soak: " << passes + 2 << " passes (" << silent << " with a silent or misleading server, "
            << failed << " failed and applied nothing, " << refused << " refused as another account, " << held
            << " held by the guard); " << removed << " removals, 0 of a listed package, 0 false reappearances; "
            << recovered << " skipped packages found by lookup; " << inconclusive << " lookups proved nothing\n";
}
