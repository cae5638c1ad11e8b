// PostgreSQL going away under a pass. These tests restart the server or block tables, so
// ctest runs them alone (RUN_SERIAL).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <thread>

#include "e2e/e2e_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::run_command;

namespace {

// Waits until esim-sync's session waits on a lock (its apply is blocked); returns that backend's pid.
std::string wait_until_blocked(esim::testing::TestDatabase& db) {
  for (int i = 0; i < 400; ++i) {
    std::string pid = db.scalar("SELECT coalesce(max(pid)::text, '') FROM pg_stat_activity "
                                "WHERE application_name LIKE 'esim-sync %' AND wait_event_type = 'Lock'");
    if (!pid.empty()) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return "";
}

}  // namespace

// Another session holding a lock that a pass's apply needs (its writes, not its reads), so the
// pass can be caught inside its transaction; released by release() or when it goes.
class ApplyBlocker {
 public:
  explicit ApplyBlocker(const std::string& url) : connection_(url), lock_(connection_) {
    lock_.exec("LOCK TABLE esim.packages IN SHARE MODE");
  }
  void release() { lock_.abort(); }

 private:
  pqxx::connection connection_;
  pqxx::work lock_;
};

class SlowApi : public EndToEnd {
 protected:
  // 25 pages at 200 ms each, 4 in flight: a pass spends about 1.4 s paging.
  SlowApi() : EndToEnd({"--packages", "2500", "--latency-ms", "200"}) {}
};

TEST_F(SlowApi, PostgresRestartMidPassFailsThePassAndTheNextCatchesUp) {
  const char* cluster = std::getenv("ESIM_TEST_PG_CLUSTER");
  ASSERT_NE(cluster, nullptr) << "ESIM_TEST_PG_CLUSTER is not set: run scripts/test";
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();

  BackgroundProcess pass({ESIM_SYNC_BINARY, "once", "--config", dir.file("config.yaml")}, dir.file("once.log"),
                         {{"E2E_API_KEY", kSimKey}});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // mid-paging
  auto restart = run_command({ESIM_SOURCE_DIR "/scripts/pg-cluster", "restart", cluster});
  ASSERT_EQ(restart.exit_code, 0) << restart.err;
  int status = 0;
  waitpid(pass.pid(), &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 1) << esim::testing::read_file(dir.file("once.log.err"));

  EXPECT_EQ(snapshot(), before);  // nothing of the interrupted pass applied
  EXPECT_EQ(db.scalar("SELECT status FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "failed");
  auto next = esim_sync("once");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, KillDashNineDuringApplyLeavesTheDatabaseAsBefore) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();

  // Hold a lock that the apply needs, so the pass is caught inside its transaction.
  ApplyBlocker lock(db.url());

  BackgroundProcess pass({ESIM_SYNC_BINARY, "once", "--config", dir.file("config.yaml")}, dir.file("once.log"),
                         {{"E2E_API_KEY", kSimKey}});
  ASSERT_NE(wait_until_blocked(db), "") << "the pass never reached its apply step";
  kill(pass.pid(), SIGKILL);
  int status = 0;
  waitpid(pass.pid(), &status, 0);
  lock.release();

  // The server notices the dead client and rolls its transaction back.
  for (int i = 0; i < 200; ++i) {
    if (db.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'esim-sync %'") == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(db.scalar("SELECT status FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "running");  // its trace
  auto next = esim_sync("once");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, RunCarriesOnAfterPostgresRestarts) {
  const char* cluster = std::getenv("ESIM_TEST_PG_CLUSTER");
  ASSERT_NE(cluster, nullptr) << "ESIM_TEST_PG_CLUSTER is not set: run scripts/test";
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  auto succeeded = [&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'"); };
  auto wait_for = [&](int passes) {
    for (int i = 0; i < 300 && succeeded() < passes; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return succeeded() >= passes;
  };
  ASSERT_TRUE(wait_for(1)) << esim::testing::read_file(dir.file("run.log.err"));
  auto restart = run_command({ESIM_SOURCE_DIR "/scripts/pg-cluster", "restart", cluster});
  ASSERT_EQ(restart.exit_code, 0) << restart.err;
  const int before = count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'");
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.05"), 200);
  EXPECT_TRUE(wait_for(before + 2)) << "no pass succeeded after the restart:\n"
                                    << esim::testing::read_file(dir.file("run.log.err"));
  EXPECT_TRUE(daemon.running());
  EXPECT_EQ(daemon.terminate(), 0);
  EXPECT_EQ(mirror(), sim.truth());
}


// SIGTERM while the apply waits on a lock that another session holds: the query is cancelled
// through libpq, the run is recorded aborted, and the daemon exits 0 at once, not at
// statement_timeout.
TEST_F(EndToEnd, SigtermDuringABlockedApplyCancelsTheQueryAndExitsAtOnce) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();
  ApplyBlocker lock(db.url());

  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  ASSERT_NE(wait_until_blocked(db), "") << "the pass never reached its apply step";
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.terminate(std::chrono::seconds(10)), 0) << esim::testing::read_file(dir.file("run.log.err"));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));
  EXPECT_EQ(db.scalar("SELECT status FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "aborted");
  lock.release();
  EXPECT_EQ(snapshot(), before);
}

// SIGTERM while the database answers nothing at all (its backend is stopped, so even the
// cancel request waits): the process still exits within its grace, well before systemd's
// TimeoutStopSec; the run it leaves 'running' is marked aborted by the next pass.
TEST_F(EndToEnd, SigtermWhileTheDatabaseAnswersNothingStillExitsWithinTheGrace) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  ApplyBlocker lock(db.url());
  BackgroundProcess pass({ESIM_SYNC_BINARY, "once", "--config", dir.file("config.yaml")}, dir.file("once.log"),
                         {{"E2E_API_KEY", kSimKey}});
  const std::string backend = wait_until_blocked(db);
  ASSERT_NE(backend, "") << "the pass never reached its apply step";
  ASSERT_EQ(kill(std::stoi(backend), SIGSTOP), 0);

  const auto asked = std::chrono::steady_clock::now();
  const int code = pass.terminate(std::chrono::seconds(20));
  const auto took = std::chrono::steady_clock::now() - asked;
  kill(std::stoi(backend), SIGCONT);
  lock.release();
  EXPECT_EQ(code, 6) << esim::testing::read_file(dir.file("once.log.err"));  // interrupted
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_TRUE(esim::testing::read_file(dir.file("once.log.err")).find("exiting now") != std::string::npos);

  auto next = esim_sync("once");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(count("SELECT count(*) FROM esim.sync_runs WHERE status = 'aborted'"), 1);
  EXPECT_EQ(mirror(), sim.truth());
}

// A pass that could not reach the database at all leaves its trace once the database is back:
// a `failed` run row with the error, so esim.sync_health and BI see the outage.
TEST_F(EndToEnd, APassThatCouldNotReachTheDatabaseIsRecordedOnceItIsBack) {
  const char* cluster = std::getenv("ESIM_TEST_PG_CLUSTER");
  ASSERT_NE(cluster, nullptr) << "ESIM_TEST_PG_CLUSTER is not set: run scripts/test";
  const std::string url = db.url();
  const auto colon = url.rfind(':');
  const std::string port = url.substr(colon + 1, url.find('/', colon) - colon - 1);
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  auto rows = [&](const std::string& where) { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE " + where); };
  auto wait_for = [&](const std::string& where, int at_least) {
    for (int i = 0; i < 400 && rows(where) < at_least; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return rows(where) >= at_least;
  };
  ASSERT_TRUE(wait_for("status = 'succeeded'", 1)) << esim::testing::read_file(dir.file("run.log.err"));

  ASSERT_EQ(run_command({ESIM_SOURCE_DIR "/scripts/pg-cluster", "stop", cluster}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // passes every second find nobody
  auto started = run_command({ESIM_SOURCE_DIR "/scripts/pg-cluster", "start", cluster, port, "--fast"});
  ASSERT_EQ(started.exit_code, 0) << started.err;

  EXPECT_TRUE(wait_for("status = 'failed' AND error LIKE 'cannot start the run:%'", 1))
      << esim::testing::read_file(dir.file("run.log.err"));
  const int succeeded = count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'");
  EXPECT_TRUE(wait_for("status = 'succeeded'", succeeded + 1)) << "passes did not resume";
  EXPECT_EQ(daemon.terminate(), 0);
}
