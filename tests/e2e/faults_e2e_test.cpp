// esim-sync under faults injected for real: by the simulator over HTTP, and by PostgreSQL
// going away. Each test asserts the tables against the simulator's ground truth.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "e2e/e2e_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::run_command;


class RateLimitedApi : public EndToEnd {
 protected:
  RateLimitedApi() : EndToEnd({"--packages", "2000", "--rate-limit", "8"}) {}
};

TEST_F(RateLimitedApi, WaitsOutRetryAfterAndMirrorsExactly) {
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "HTTP 429; retrying in 1000 ms")) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, TransientServerErrorsAreRetried) {
  ASSERT_EQ(sim.post("/_sim/fail?after=3&times=2&status=503"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "HTTP 503; retrying")) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, AuthenticationErrorsAreNeverRetried) {
  auto result = esim_sync("once", {{"E2E_API_KEY", "bad"}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_FALSE(contains(result.err, "retrying")) << result.err;
}

TEST_F(EndToEnd, TricklingServerIsAbandonedAndNothingApplied) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();
  ASSERT_EQ(sim.post("/_sim/fail?mode=trickle&times=100"), 200);
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(snapshot(), before);
  EXPECT_TRUE(contains(db.scalar("SELECT error FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "low_speed"))
      << result.err;
}

TEST_F(EndToEnd, OversizeBodyFailsThePassWithoutRetrying) {
  write_config(sim.base_url(), 100, "  max_response_size: 1MiB\n");
  ASSERT_EQ(sim.post("/_sim/fail?mode=oversize&times=1"), 200);
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "larger than api.max_response_size")) << result.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "0");
  ASSERT_EQ(esim_sync("once").exit_code, 0);  // the fault was one answer, not retried into
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, DriftNeverRemovesAListedPackageAndStillAppliesRealDepartures) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/drift?every=4"), 200);  // packages come and go while we page
  int removed = 0;
  for (int i = 0; i < 2; ++i) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(falsely_removed(), "");
    removed += std::stoi(last_run("removed"));
    // Every removal was proven by a lookup: one walk is enough, nothing waits.
    EXPECT_EQ(last_run("listing_attempts"), "1");
    EXPECT_EQ(last_run("removed"), last_run("removed_by_lookup"));
  }
  EXPECT_GT(removed, 0);

  ASSERT_EQ(sim.post("/_sim/drift?every=0"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(db.scalar("SELECT coalesce(warning, '-') FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "-");
}

TEST_F(EndToEnd, MassRemovalIsHeldBackUntilAnOperatorAllowsIt) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/hide-fraction?fraction=0.4"), 200);
  auto held = esim_sync("once");
  ASSERT_EQ(held.exit_code, 0) << held.err;
  EXPECT_TRUE(contains(held.err, "removal guard: 1000 of 2500 live packages (40.0%)")) << held.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NOT NULL"), "0");
  // A warning state wherever health is read, not a plain "succeeded".
  EXPECT_EQ(db.scalar("SELECT removals_held FROM esim.sync_health"), "t");
  auto status = esim_sync("status");
  EXPECT_TRUE(contains(status.out, "WARNING: removals held by the guard")) << status.out;

  auto allowed = run_command({ESIM_SYNC_BINARY, "once", "--allow-mass-removal", "--config", dir.file("config.yaml")},
                             {{"E2E_API_KEY", kSimKey}});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NOT NULL"), "1000");
}

TEST_F(EndToEnd, EmptyListingDoesNotEmptyTheDashboards) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/hide-fraction?fraction=1"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NULL"), "2500");
}

TEST_F(EndToEnd, RunWaitsForADatabaseThatIsNotThereYet) {
  // Point the daemon at a database that does not exist yet; create it a little later.
  const std::string missing = db.url() + "_later";
  std::string config = esim::testing::read_file(dir.file("config.yaml"));
  dir.write("config.yaml", config.replace(config.find(db.url()), db.url().size(), missing));
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(daemon.running());
  const std::string name = missing.substr(missing.rfind('/') + 1);
  {
    pqxx::connection admin(db.url());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  bool synced = false;
  for (int i = 0; i < 200 && !synced; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    try {
      pqxx::connection c(missing);
      pqxx::work tx(c);
      synced = tx.exec("SELECT 1 FROM esim.sync_runs WHERE status = 'succeeded'").size() > 0;
    } catch (const std::exception&) {
    }
  }
  EXPECT_TRUE(synced) << esim::testing::read_file(dir.file("run.log.err"));
  EXPECT_EQ(daemon.terminate(), 0);
  pqxx::connection admin(db.url());
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name));
}
