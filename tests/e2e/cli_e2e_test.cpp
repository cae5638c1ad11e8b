// The command-line contract: commands, exit codes, and what each prints.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <thread>

#include "e2e/e2e_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::run_command;
using esim::testing::TempDir;

TEST(Cli, NoCommandIsAUsageError) {
  EXPECT_EQ(run_command({ESIM_SYNC_BINARY}).exit_code, 2);
  EXPECT_EQ(run_command({ESIM_SYNC_BINARY, "frobnicate"}).exit_code, 2);
}

TEST(Cli, HelpListsEveryCommandAndTheExitCodes) {
  auto result = run_command({ESIM_SYNC_BINARY, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* word : {"once", "run", "migrate", "check-config", "Exit codes"}) {
    EXPECT_TRUE(contains(result.out, word)) << word;
  }
  EXPECT_EQ(run_command({ESIM_SYNC_BINARY, "once", "--help"}).exit_code, 0);
}

TEST(Cli, CheckConfigOnAMissingFileExits3) {
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", "/nonexistent/esim.yaml"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_TRUE(contains(result.err, "/nonexistent/esim.yaml")) << result.err;
}

TEST(Cli, CheckConfigReportsEveryProblemWithKeyAndLine) {
  TempDir dir;
  dir.write("bad.yaml", "api:\n  api_key: k\n  user_id: u\n  page_size: -3\n  retries: 4\ndatabase:\n  url: x\n"
                        "schedule:\n  interval: soon\n");
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", dir.file("bad.yaml")});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_TRUE(contains(result.err, "bad.yaml:4: api.page_size")) << result.err;
  EXPECT_TRUE(contains(result.err, "bad.yaml:5: api.retries: unknown key")) << result.err;
  EXPECT_TRUE(contains(result.err, "bad.yaml:9: schedule.interval")) << result.err;
}

TEST(Cli, CheckConfigPrintsTheEffectiveConfigWithoutSecrets) {
  TempDir dir;
  dir.write("ok.yaml", "api:\n  api_key: ${K}\n  user_id: u\ndatabase:\n  url: postgresql://esim:pw-123@db/esim\n");
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", dir.file("ok.yaml")},
                            {{"K", "very-secret-api-key"}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "page_size: 100")) << result.out;
  EXPECT_TRUE(contains(result.out, "interval: 15m")) << result.out;
  EXPECT_FALSE(contains(result.out + result.err, "very-secret-api-key"));
  EXPECT_FALSE(contains(result.out + result.err, "pw-123"));
}

TEST(Cli, UnreachableDatabaseExits4WithoutThePassword) {
  TempDir dir;
  dir.write("c.yaml", "api:\n  api_key: k\n  user_id: u\ndatabase:\n  url: postgresql://esim:pw-456@127.0.0.1:1/esim\n");
  auto result = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("c.yaml")});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "127.0.0.1")) << result.err;
  EXPECT_FALSE(contains(result.err, "pw-456")) << result.err;
}

TEST_F(EndToEnd, MigrateCreatesTheSchemaAndIsIdempotent) {
  auto first = esim_sync("migrate");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(contains(first.err, "applied migration 0001_initial_schema.sql")) << first.err;
  auto second = esim_sync("migrate");
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_FALSE(contains(second.err, "applied migration")) << second.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "0");
}

TEST_F(EndToEnd, RunSyncsOnScheduleAndStopsCleanlyOnSigterm) {
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  auto succeeded_passes = [&] { return polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'"); };
  // interval is 1s in the fixture: wait for at least two passes.
  for (int i = 0; i < 200 && succeeded_passes() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(count("SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'"), 2);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.terminate(std::chrono::seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(mirror(), sim.truth());
}

TEST(Cli, TheExampleConfigIsValidAndDocumentsEverySection) {
  // As the unit runs it: the API key and the password file are credentials (docs/operations.md "Deploy with systemd").
  TempDir credentials;
  credentials.write("betatel-api-key", "example-key-5c1e\n");
  credentials.write("pgpass", "localhost:5432:esim:esim_sync:pw\n");
  chmod(credentials.file("pgpass").c_str(), 0600);
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", ESIM_SOURCE_DIR "/deploy/esim-sync.example.yaml"},
                            {{"CREDENTIALS_DIRECTORY", credentials.path()}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(contains(result.out + result.err, "example-key-5c1e")) << result.out;
  for (const char* key : {"max_retries: 5", "max_removed_fraction: 0.2", "statement_timeout: 5m", "interval: 15m"}) {
    EXPECT_NE(result.out.find(key), std::string::npos) << key << "\n" << result.out;
  }
}

// Issue 19 item 4: a database that is not UTF-8 takes no migration and fails check-config
// --connect, naming its encoding and the fix.
TEST(Cli, MigrateAndCheckConfigRefuseADatabaseThatIsNotUtf8) {
  esim::testing::TestDatabase ascii("SQL_ASCII");
  TempDir dir;
  dir.write("c.yaml", "api:\n  base_url: http://127.0.0.1:1/api\n  api_key: k\n  user_id: u\ndatabase:\n  url: " +
                          ascii.url() + "\n");
  auto migrate = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("c.yaml")});
  EXPECT_NE(migrate.exit_code, 0);
  EXPECT_TRUE(contains(migrate.err, "encoding SQL_ASCII")) << migrate.err;
  EXPECT_TRUE(contains(migrate.err, "ENCODING 'UTF8' TEMPLATE template0")) << migrate.err;
  auto check = run_command({ESIM_SYNC_BINARY, "check-config", "--connect", "--config", dir.file("c.yaml")});
  EXPECT_EQ(check.exit_code, 4) << check.out;
  EXPECT_TRUE(contains(check.out, "encoding SQL_ASCII")) << check.out;
  EXPECT_TRUE(contains(check.out, "ENCODING 'UTF8' TEMPLATE template0")) << check.out;
}
