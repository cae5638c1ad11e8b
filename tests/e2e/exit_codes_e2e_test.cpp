// Exit codes and hints a script or an operator relies on: each documented code for the case it
// names, and errors that say what to check instead of being retried.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "e2e/e2e_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;

TEST_F(EndToEnd, RunExits4OnAMigrationItDoesNotKnow) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  db.exec("INSERT INTO esim.schema_migrations (version, file_name, checksum) VALUES (9999, '9999_future.sql', 'x')");
  const auto started = std::chrono::steady_clock::now();
  auto result = run_command({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, {{"E2E_API_KEY", kSimKey}},
                            std::chrono::seconds(20));
  EXPECT_EQ(result.exit_code, 4) << result.err;  // not a loop of "database not ready"
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_TRUE(contains(result.err, "9999_future.sql which this esim-sync does not know")) << result.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.sync_runs"), "0");
}

TEST_F(EndToEnd, TlsToAPlainHttpServerFailsAtOnceNamingTheBaseUrl) {
  std::string url = sim.base_url();
  write_config("https" + url.substr(4));  // the simulator speaks plain http: "wrong version number"
  const auto started = std::chrono::steady_clock::now();
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(contains(result.err, "not retried: check api.base_url")) << result.err;
  EXPECT_FALSE(contains(result.err, "retrying in")) << result.err;
  EXPECT_TRUE(contains(db.scalar("SELECT error FROM esim.sync_runs"), "check api.base_url"));
}

class SlowListing : public EndToEnd {
 protected:
  SlowListing() : EndToEnd({"--packages", "2500", "--seed", "5", "--latency-ms", "150"}) {
    write_config(sim.base_url(), 100, "  concurrency: 2\n");
  }
};

TEST_F(SlowListing, AnInterruptedOnceExits6AndAppliesNothing) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  BackgroundProcess once({ESIM_SYNC_BINARY, "once", "--config", dir.file("config.yaml")}, dir.file("once.log"),
                         {{"E2E_API_KEY", kSimKey}});
  for (int i = 0; i < 300 && polled_count("SELECT count(*) FROM esim.sync_runs WHERE status = 'running'") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // inside the ~2 s of paging
  EXPECT_EQ(once.terminate(std::chrono::seconds(10)), 6) << read_file(dir.file("once.log.err"));
  EXPECT_EQ(db.scalar("SELECT status FROM esim.sync_runs"), "aborted");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "0");
}

TEST(CheckConfig, AnApiKeyFileOthersCanReadDrawsAWarning) {
  esim::testing::TempDir dir;
  dir.write("key", "secret-key-123\n");
  chmod(dir.file("key").c_str(), 0644);
  dir.write("c.yaml", "api:\n  api_key_file: " + dir.file("key") + "\n  user_id: u\ndatabase:\n  url: x\n");
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", dir.file("c.yaml")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "warning: api.api_key_file: " + dir.file("key") + " can be read by every user"))
      << result.err;
}
