// A randomized soak: many passes over a churning listing that also misbehaves the way a live
// service can while it is paged (arrivals and departures anywhere, a lagging total, pages
// larger than asked, lookups that find nothing), with random faults (5% of requests
// answer 503 and are retried; malformed pages fail about a third of the passes). After every
// pass:
// - a failed pass changed nothing;
// - a succeeded pass removed no package that the simulator still lists (no invented removal);
// - every package the mirror held before the pass and the simulator listed throughout it is in
//   the mirror with its current status (no missed transition);
// and at the end the history is exactly the sequence of states the mirror went through (every
// transition recorded once), and a quiet last pass leaves the mirror equal to the truth.
// Size from the environment: ESIM_SOAK_PASSES, ESIM_SOAK_PACKAGES, ESIM_SOAK_SEED (bench/soak
// runs a large one).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::env_or;
using esim::testing::read_file;

namespace {

using State = std::map<std::string, std::string>;  // id -> status of the listed packages

// "id:old>new" transitions implied by the sequence of states, NULL as "-".
std::map<std::string, std::vector<std::string>> expected_history(const std::vector<State>& states) {
  std::map<std::string, std::vector<std::string>> history;
  std::map<std::string, std::string> last;  // id -> last status, "-" while unlisted
  for (const State& state : states) {
    for (const auto& [id, status] : state) {
      auto seen = last.find(id);
      std::string before = seen == last.end() ? "-" : seen->second;
      if (before != status) history[id].push_back(before + ">" + status);
      last[id] = status;
    }
    for (auto& [id, status] : last) {
      if (status != "-" && !state.count(id)) {
        history[id].push_back(status + ">-");
        status = "-";
      }
    }
  }
  return history;
}

}  // namespace

class Soak : public EndToEnd {
 protected:
  Soak()
      : EndToEnd({"--packages", std::to_string(env_or("ESIM_SOAK_PACKAGES", 1500)), "--seed",
                  std::to_string(env_or("ESIM_SOAK_SEED", 11)), "--fault-seed",
                  std::to_string(env_or("ESIM_SOAK_SEED", 11)), "--fail-rate", "0.05"}) {
    // Malformed pages fail the whole pass: about one pass in three, whatever the listing's size
    // (a fixed rate per page would fail nearly every pass of a large listing).
    const double pages = static_cast<double>(env_or("ESIM_SOAK_PACKAGES", 1500)) / 100.0;
    sim.post("/_sim/faults?malformed_rate=" + std::to_string(0.4 / pages));
    // Long failure streaks let many packages go between two good passes; the mass-removal guard
    // would then rightly hold the removals back. It has tests of its own: here it stays out of
    // the way, so that every good pass must match the truth exactly.
    dir.write("config.yaml", read_file(dir.file("config.yaml")) + "sync:\n  max_removed_fraction: 1\n");
  }
};

TEST_F(Soak, NoInventedRemovalsAndEveryTransitionOnceWhateverTheListingDoes) {
  const long passes = env_or("ESIM_SOAK_PASSES", 16);
  std::mt19937_64 rng(static_cast<std::uint64_t>(env_or("ESIM_SOAK_SEED", 11)));
  std::vector<State> succeeded_states;  // the mirror after each succeeded pass
  std::vector<std::string> hidden;
  int failed = 0, misbehaving = 0;
  long long removed = 0, removed_by_lookup = 0, removed_by_second_walk = 0, recovered = 0, lookups = 0;
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);

  for (long pass = 0; pass < passes; ++pass) {
    // Between passes the world moves: lifecycle steps, arrivals and departures, and now and
    // then a package that vanishes and comes back, or a burst of server errors.
    if (pass > 0) {
      ASSERT_EQ(sim.post("/_sim/step?fraction=" + std::to_string(0.005 + 0.03 * (rng() % 100) / 100.0)), 200);
    }
    if (rng() % 2 == 0) {
      auto truth = sim.truth();
      auto it = std::next(truth.begin(), static_cast<long>(rng() % truth.size()));
      if (sim.post("/_sim/packages/" + it->first + "/hide") == 200) hidden.push_back(it->first);
    }
    if (!hidden.empty() && rng() % 2 == 0) {
      sim.post("/_sim/packages/" + hidden.back() + "/unhide");
      hidden.pop_back();
    }
    if (rng() % 5 == 0) {
      ASSERT_EQ(sim.post("/_sim/fail?after=" + std::to_string(rng() % 10) + "&times=3&status=503"), 200);
    }
    // And during the pass the listing misbehaves, in one way or several. A server whose lookups
    // find nothing gets a listing that holds still, so nothing is skipped that no lookup could
    // settle; the two-walk rule is what it exercises.
    const bool drift = rng() % 3 == 0;
    const bool ignore_sim = !drift && rng() % 6 == 0;  // lookups that find nothing
    const bool lagging = rng() % 4 == 0;
    const bool larger = rng() % 6 == 0;
    misbehaving += drift || ignore_sim || lagging || larger ? 1 : 0;
    ASSERT_EQ(sim.post("/_sim/drift?anywhere=1&every=" + std::to_string(drift ? 5 + rng() % 25 : 0)), 200);
    ASSERT_EQ(sim.post(std::string("/_sim/listing?lookups=") + (ignore_sim ? "empty" : "honest") +
                       "&total=" + (lagging ? "frozen" : "truth") + "&larger_by=" + (larger ? "37" : "0")),
              200);
    if (lagging) {
      ASSERT_EQ(sim.post("/_sim/add?count=" + std::to_string(1 + rng() % 5)), 200);
    }

    const std::string before = snapshot();
    const State mirror_before = mirror(), truth_before = sim.truth();
    auto result = esim_sync("once");
    const State truth_after = sim.truth();
    if (result.exit_code != 0) {
      ASSERT_EQ(result.exit_code, 1) << result.err;
      ASSERT_EQ(snapshot(), before) << "pass " << pass << " failed but changed the mirror";
      ++failed;
      continue;
    }
    for (const auto& row : db.query("SELECT h.package_id FROM esim.package_status_history h WHERE h.new_status IS NULL "
                                    "AND h.run_id = (SELECT max(id) FROM esim.sync_runs)")) {
      ASSERT_EQ(truth_after.count(row[0].c_str()), 0u)
          << "pass " << pass << " invented the removal of " << row[0].c_str() << "\n" << result.err;
    }
    const State now = mirror();
    for (const auto& [id, status] : mirror_before) {
      auto listed_before = truth_before.find(id);
      auto listed_after = truth_after.find(id);
      if (listed_before == truth_before.end() || listed_after == truth_after.end()) continue;
      auto mirrored = now.find(id);
      ASSERT_TRUE(mirrored != now.end()) << "pass " << pass << " lost " << id << "\n" << result.err;
      ASSERT_EQ(mirrored->second, listed_after->second) << "pass " << pass << " missed a transition of " << id;
    }
    succeeded_states.push_back(now);
    removed += std::stoll(last_run("removed"));
    removed_by_lookup += std::stoll(last_run("removed_by_lookup"));
    removed_by_second_walk += std::stoll(last_run("removed_by_second_walk"));
    recovered += std::stoll(last_run("recovered_by_lookup"));
    lookups += std::stoll(last_run("lookups"));
  }
  // Two last passes with the faults off and a listing that holds still, so the run ends on a
  // known state (the second settles what the first could only defer).
  ASSERT_EQ(sim.post("/_sim/faults?fail_rate=0&malformed_rate=0"), 200);
  ASSERT_EQ(sim.post("/_sim/fail?times=0"), 200);
  ASSERT_EQ(sim.post("/_sim/drift?every=0"), 200);
  ASSERT_EQ(sim.post("/_sim/listing?lookups=honest&total=truth&larger_by=0"), 200);
  for (int i = 0; i < 2; ++i) {
    auto last = esim_sync("once");
    ASSERT_EQ(last.exit_code, 0) << last.err;
    succeeded_states.push_back(mirror());
  }
  ASSERT_EQ(mirror(), sim.truth());

  std::map<std::string, std::vector<std::string>> actual;
  for (const auto& row : db.query("SELECT package_id, coalesce(old_status, '-') || '>' || coalesce(new_status, '-') "
                                  "FROM esim.package_status_history ORDER BY id")) {
    actual[row[0].c_str()].push_back(row[1].c_str());
  }
  auto expected = expected_history(succeeded_states);
  EXPECT_EQ(actual.size(), expected.size());
  std::size_t mismatches = 0;
  for (const auto& [id, transitions] : expected) {
    if (actual[id] != transitions && ++mismatches <= 5) {
      ADD_FAILURE() << "history of " << id << " differs from what the passes saw";
    }
  }
  ASSERT_EQ(mismatches, 0u);
  std::cout << "soak: " << passes + 2 << " passes (" << failed << " failed and applied nothing, " << misbehaving
            << " with the listing misbehaving), " << succeeded_states.back().size() << " packages, "
            << db.scalar("SELECT count(*) FROM esim.package_status_history") << " history rows; " << removed
            << " removals (" << removed_by_lookup << " proven by lookup, " << removed_by_second_walk
            << " by a second walk), 0 invented; " << lookups << " lookups found " << recovered
            << " packages the walk had skipped\n";
}
