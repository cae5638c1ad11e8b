// The service layer end to end: reloads that keep the old on failure, a standby that takes
// over from a dead leader, health read from the database at start, structured logs, and the
// commands operators run beside the daemon.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "e2e/daemon_fixture.h"

using esim::testing::contains;
using esim::testing::Daemon;
using esim::testing::eventually;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;
using esim::testing::status_of;

TEST_F(Daemon, AReloadToAnUnreachableDatabaseKeepsSyncingTheOldOne) {
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return succeeded_passes() >= 1; }));
  std::string config = read_file(dir.file("config.yaml"));
  const std::string good = config;
  config.replace(config.find(db.url()), db.url().size(), db.url() + "_nowhere");
  dir.write("config.yaml", config);
  kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return contains(read_file(dir.file("run.log.err")), "configuration reload failed"); }))
      << read_file(dir.file("run.log.err"));
  const int passes = count(kSucceededPasses);
  EXPECT_TRUE(eventually([&] { return succeeded_passes() >= passes + 2; }))
      << "passes stopped after a bad reload:\n" << read_file(dir.file("run.log.err"));
  EXPECT_EQ(count("SELECT count(*) FROM esim.sync_runs WHERE status = 'failed'"), 0);
  EXPECT_EQ(daemon->terminate(), 0);
}

TEST_F(Daemon, AStandbyTakesOverWithinAnIntervalWhenTheLeaderDies) {
  const std::string plain = read_file(dir.file("config.yaml"));
  listen_for_metrics();  // the leader's port
  auto leader = start_daemon("leader.log");
  ASSERT_TRUE(eventually([&] { return succeeded_passes() >= 1; }));
  dir.write("config.yaml", plain);
  const std::string standby_base = listen_for_metrics();  // the standby's own port
  auto standby = start_daemon("standby.log");
  ASSERT_TRUE(eventually([&] { return contains(read_file(dir.file("standby.log.err")), "standby:"); }))
      << read_file(dir.file("standby.log.err"));
  std::string body;
  EXPECT_TRUE(eventually([&] { return status_of(standby_base + "/healthz", &body) == 200 && contains(body, "standby"); }))
      << body;

  // `once` and `status` name the leader.
  auto once = esim_sync("once");
  EXPECT_EQ(once.exit_code, 5);
  EXPECT_TRUE(contains(once.err, "pid=" + std::to_string(leader->pid()))) << "leader " << leader->pid() << ", standby " << standby->pid() << ": " << once.err;
  auto status_now = esim_sync("status");
  EXPECT_TRUE(contains(status_now.out, "pid=" + std::to_string(leader->pid()))) << status_now.out << read_file(dir.file("leader.log.err"));

  kill(leader->pid(), SIGKILL);
  int status = 0;
  waitpid(leader->pid(), &status, 0);
  const int before = count(kSucceededPasses);
  EXPECT_TRUE(eventually([&] { return succeeded_passes() >= before + 2; }, 10))
      << "the standby did not take over:\n" << read_file(dir.file("standby.log.err"));
  EXPECT_TRUE(contains(read_file(dir.file("standby.log.err")), "this esim-sync is the writer now"));
  EXPECT_TRUE(contains(esim_sync("status").out, "pid=" + std::to_string(standby->pid())));
  EXPECT_EQ(standby->terminate(), 0);
}

class SlowFirstPass : public Daemon {
 protected:
  SlowFirstPass() { slow = std::make_unique<esim::testing::SimProcess>(with_key({"--packages", "2500", "--latency-ms", "400"})); }
  std::unique_ptr<esim::testing::SimProcess> slow;
};

// After a restart, /healthz and the last-success metric come from the database at once, not
// after the first pass: a restart is not an outage and fires no staleness alert.
TEST_F(SlowFirstPass, HealthRightAfterARestartReflectsTheDatabase) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  write_config(slow->base_url(), 100, "  concurrency: 1\n");  // the first pass now takes ~10 s
  const std::string base = listen_for_metrics();
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'running'") == 1; }));
  std::string body;
  EXPECT_EQ(status_of(base + "/healthz", &body), 200) << body;
  std::string metrics;
  ASSERT_EQ(status_of(base + "/metrics", &metrics), 200);
  EXPECT_FALSE(contains(metrics, "esim_sync_last_success_timestamp_seconds 0.000")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_pass_in_progress 1")) << metrics;
  // `status` shows the running pass's progress (updated every few seconds).
  EXPECT_TRUE(eventually([&] { return polled_count("SELECT packages_seen FROM esim.sync_runs WHERE status = 'running'") > 0; }));
  EXPECT_EQ(daemon->terminate(), 0);
}

TEST_F(Daemon, StatusAndMigrateNeedNoApiSecrets) {
  auto migrate = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("config.yaml")});  // no E2E_API_KEY
  EXPECT_EQ(migrate.exit_code, 0) << migrate.err;
  auto status = run_command({ESIM_SYNC_BINARY, "status", "--config", dir.file("config.yaml")});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "writer:   none right now")) << status.out;
  auto once = run_command({ESIM_SYNC_BINARY, "once", "--config", dir.file("config.yaml")});
  EXPECT_EQ(once.exit_code, 3);  // a pass does need them
}

TEST_F(Daemon, TheConfigPathComesFromTheEnvironmentAndCheckConfigConnects) {
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--connect"},
                            {{"ESIM_SYNC_CONFIG", dir.file("config.yaml")}, {"E2E_API_KEY", kSimKey}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "# database: reachable")) << result.out;
  EXPECT_TRUE(contains(result.out, "# api: reachable; the listing reports 2500 packages")) << result.out;

  auto wrong_key = run_command({ESIM_SYNC_BINARY, "check-config", "--connect"},
                               {{"ESIM_SYNC_CONFIG", dir.file("config.yaml")}, {"E2E_API_KEY", "wrong"}});
  EXPECT_EQ(wrong_key.exit_code, 1);
  EXPECT_TRUE(contains(wrong_key.out, "# api: NOT reachable")) << wrong_key.out;
  EXPECT_FALSE(contains(wrong_key.out, kSimKey));
}
