// `esim-sync run` as systemd runs it: signals, two instances at once, reloads, /metrics and
// /healthz, all over real processes, HTTP and PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "e2e/daemon_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;

using esim::testing::Daemon;
using esim::testing::eventually;
using esim::testing::status_of;

class SlowDaemon : public Daemon {
 protected:
  SlowDaemon() { sim_slow = std::make_unique<esim::testing::SimProcess>(with_key({"--packages", "2500", "--latency-ms", "150"})); }
  std::unique_ptr<esim::testing::SimProcess> sim_slow;
};

TEST_F(SlowDaemon, SigtermMidPassAbortsItAndAppliesNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);  // the fast simulator's listing
  const std::string before = snapshot();
  write_config(sim_slow->base_url(), 100, "  concurrency: 2\n");  // a different listing, slowly

  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'running'") == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // well inside the ~2 s of paging
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon->terminate(std::chrono::seconds(10)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));

  EXPECT_EQ(count("SELECT count(*) FROM esim.sync_runs WHERE status = 'running'"), 0);
  EXPECT_EQ(db.scalar("SELECT status FROM esim.sync_runs ORDER BY id DESC LIMIT 1"), "aborted");
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Daemon, RunLeftRunningByADeadProcessIsMarkedAborted) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  db.exec("INSERT INTO esim.sync_runs (started_at, status) VALUES (now() - interval '1 hour', 'running')");
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT status || ': ' || left(error, 37) FROM esim.sync_runs ORDER BY id LIMIT 1"),
            "aborted: the process running this pass stopped");
}

TEST_F(Daemon, TwoInstancesNeverWriteAtTheSameTime) {
  auto first = start_daemon("first.log");
  auto second = start_daemon("second.log");
  ASSERT_TRUE(eventually([&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'") >= 4; }));
  for (int step = 0; step < 2; ++step) {
    ASSERT_EQ(sim.post("/_sim/step?fraction=0.05"), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  EXPECT_EQ(first->terminate(), 0);
  EXPECT_EQ(second->terminate(), 0);
  // No two passes overlapped, and no transition was recorded twice.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.sync_runs a JOIN esim.sync_runs b ON a.id < b.id "
                      "AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM (SELECT package_id, old_status, new_status FROM esim.package_status_history "
                      "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"),
            "0");
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(Daemon, OnceWhileAnotherWriterHoldsTheLockExits5) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  pqxx::connection holder(db.url());
  pqxx::nontransaction tx(holder);
  tx.exec("SELECT pg_advisory_lock(" + std::to_string(0x6573696d73796e63LL) + ")");
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_TRUE(contains(result.err, "another esim-sync is syncing this database")) << result.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.sync_runs"), "0");
}

TEST_F(Daemon, SighupReloadsAGoodConfigAndKeepsTheOldOneOnABadOne) {
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'") >= 1; }));
  // 2500 packages now come in 42 pages of 60 (plus at most one empty page per worker at the end).
  write_config(sim.base_url(), 60);
  kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return contains(read_file(dir.file("run.log.err")), "2500 packages in 4"); }))
      << read_file(dir.file("run.log.err"));
  EXPECT_TRUE(contains(read_file(dir.file("run.log.err")), "configuration reloaded"));

  dir.write("config.yaml", "api:\n  page_size: lots\n");
  kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return contains(read_file(dir.file("run.log.err")), "configuration reload failed"); }));
  const int passes = count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'");
  ASSERT_TRUE(eventually([&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'") > passes; }))
      << "the daemon stopped syncing after a bad reload";
  EXPECT_TRUE(daemon->running());
  EXPECT_EQ(daemon->terminate(), 0);
}

TEST_F(Daemon, MetricsPassPromtoolAndHealthzTurns503WhenPassesFail) {
  const int port = esim::testing::free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string config = read_file(dir.file("config.yaml"));
  dir.write("config.yaml", config + "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; }))
      << read_file(dir.file("run.log.err"));

  std::string metrics;
  ASSERT_EQ(esim::testing::http_get(base + "/metrics", &metrics), 200);
  EXPECT_TRUE(contains(metrics, "esim_sync_passes_total{result=\"succeeded\"}")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_api_requests_total{code=\"200\"}")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_packages{status=\"ACTIVE\"}")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_removals_proven_total{proof=\"lookup\"} 0")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_removals_deferred 0")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_removals_held 0")) << metrics;
  EXPECT_TRUE(contains(metrics, "esim_sync_leader 1")) << metrics;
  dir.write("metrics.txt", metrics);
  auto promtool = run_command({"/bin/sh", "-c", "promtool check metrics < " + dir.file("metrics.txt")});
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;

  ASSERT_EQ(sim.post("/_sim/fail?times=100000&status=503"), 200);  // every pass fails from now on
  EXPECT_TRUE(eventually([&] { return status_of(base + "/healthz") == 503; }, 30));
  ASSERT_EQ(esim::testing::http_get(base + "/metrics", &metrics), 200);
  EXPECT_TRUE(contains(metrics, "esim_sync_api_requests_total{code=\"503\"}")) << metrics;
  EXPECT_EQ(daemon->terminate(), 0);
}

// One object a line, and the pass's lines carry the run and its counts as fields.
TEST_F(Daemon, JsonLogsAreOneObjectALineWithTheRunAndItsCounts) {
  std::string config = read_file(dir.file("config.yaml"));
  config.replace(config.find("  level: debug\n"), 15, "  level: info\n  format: json\n");
  dir.write("config.yaml", config);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.err);
  int parsed = 0;
  bool end_line = false;
  for (std::string line; std::getline(lines, line);) {
    auto object = nlohmann::json::parse(line);  // throws on anything but one JSON object a line
    EXPECT_TRUE(object.contains("time") && object.contains("level") && object.contains("message"));
    ++parsed;
    if (!contains(object["message"].get<std::string>(), "succeeded")) continue;
    EXPECT_EQ(object["run_id"], 1) << line;
    EXPECT_EQ(object["packages_seen"], 2500) << line;
    EXPECT_EQ(object["inserted"], 2500) << line;
    end_line = true;
  }
  EXPECT_GE(parsed, 2);
  EXPECT_TRUE(end_line) << result.err;
}

TEST_F(Daemon, StatusShowsPassesAndCounts) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  auto result = esim_sync("status");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "mirror:   fresh")) << result.out;
  EXPECT_TRUE(contains(result.out, "packages: 2500 live")) << result.out;
  EXPECT_TRUE(contains(result.out, "succeeded")) << result.out;
}

namespace {

// The sessions holding esim-sync's writer lock in a database, as "pid" text ("" for none).
std::string writer_pid(esim::testing::TestDatabase& db) {
  return db.scalar("SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_locks "
                   "WHERE locktype = 'advisory' AND granted AND database = "
                   "(SELECT oid FROM pg_database WHERE datname = current_database())");
}

int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

// Issue 19 item 5: a reload that keeps the database keeps the session that holds the writer
// lock, so a standby never sees the lock free; a reload to another database hands it over and
// says so.
TEST_F(Daemon, AReloadKeepsTheWriterLockOrHandsItOverExplicitly) {
  const std::string hourly = [&] {
    std::string text = read_file(dir.file("config.yaml"));
    return text.replace(text.find("interval: 1s"), 12, "interval: 1h");
  }();
  dir.write("config.yaml", hourly);
  auto daemon = start_daemon();
  ASSERT_TRUE(eventually([&] { return succeeded_passes() >= 1; }));
  const std::string writer = writer_pid(db);
  ASSERT_NE(writer, "");
  dir.write("config.yaml", hourly + "sync:\n  max_removal_lookups: 500\n");
  kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return contains(read_file(dir.file("run.log.err")), "configuration reloaded"); }));
  EXPECT_EQ(writer_pid(db), writer) << read_file(dir.file("run.log.err"));

  esim::testing::TestDatabase other;
  std::string moved = hourly;
  moved.replace(moved.find(db.url()), db.url().size(), other.url());
  dir.write("config.yaml", moved);
  kill(daemon->pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return occurrences(read_file(dir.file("run.log.err")), "configuration reloaded") == 2; }));
  EXPECT_TRUE(contains(read_file(dir.file("run.log.err")), "released the writer lock")) << read_file(dir.file("run.log.err"));
  EXPECT_EQ(writer_pid(db), "");
  EXPECT_NE(writer_pid(other), "");
  EXPECT_EQ(daemon->terminate(), 0);
}
