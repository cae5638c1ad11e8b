// A randomized soak: many passes over a churning listing with random faults. After every pass
// the mirror is either exactly the simulator's truth (the pass succeeded) or exactly as before
// (it failed); at the end, every package's history is exactly the sequence of states the
// succeeded passes saw. Random faults: 5% of requests answer 503 (retried), and malformed pages
// fail about a third of the passes. Size from the environment: ESIM_SOAK_PASSES, ESIM_SOAK_PACKAGES,
// ESIM_SOAK_SEED (bench/soak runs a large one).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::read_file;

namespace {

long env_or(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atol(value) : fallback;
}

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

TEST_F(Soak, MirrorAndHistoryMatchTheTruthAfterEveryPass) {
  const long passes = env_or("ESIM_SOAK_PASSES", 16);
  std::mt19937_64 rng(static_cast<std::uint64_t>(env_or("ESIM_SOAK_SEED", 11)));
  std::vector<State> succeeded_states;
  std::vector<std::string> hidden;
  int failed = 0;
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

    const std::string before = snapshot();
    auto result = esim_sync("once");
    if (result.exit_code == 0) {
      State truth = sim.truth();
      ASSERT_EQ(mirror(), truth) << "pass " << pass << " succeeded but the mirror differs from the truth";
      succeeded_states.push_back(std::move(truth));
    } else {
      ASSERT_EQ(result.exit_code, 1) << result.err;
      ASSERT_EQ(snapshot(), before) << "pass " << pass << " failed but changed the mirror";
      ++failed;
    }
  }
  // A last pass with the faults off, so the run ends on a known state.
  ASSERT_EQ(sim.post("/_sim/faults?fail_rate=0&malformed_rate=0"), 200);
  ASSERT_EQ(sim.post("/_sim/fail?times=0"), 200);
  auto last = esim_sync("once");
  ASSERT_EQ(last.exit_code, 0) << last.err;
  succeeded_states.push_back(sim.truth());
  ASSERT_EQ(mirror(), succeeded_states.back()) << last.err;

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
  std::cout << "soak: " << passes + 1 << " passes (" << failed << " failed and applied nothing), "
            << succeeded_states.back().size() << " packages, " << db.scalar("SELECT count(*) FROM esim.package_status_history")
            << " history rows, all matching the simulator's truth\n";
}
