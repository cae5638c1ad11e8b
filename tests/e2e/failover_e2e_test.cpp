// Issue 19 item 8: failover stays proven. `run` against a primary and its streaming standby
// (pg_basebackup -R) named together in a multi-host URL with target_session_attrs=read-write;
// the primary dies, the standby is promoted, and the mirror carries on there. Clusters of its
// own (not the suite's), so no other test sees the failover.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "e2e/daemon_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::eventually;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;
using esim::testing::SimProcess;
using esim::testing::TempDir;

namespace {

const std::string kPgCluster = ESIM_SOURCE_DIR "/scripts/pg-cluster";

// A query's single value on one server ("" while it cannot be asked).
std::string scalar(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  } catch (const std::exception&) {
    return "";
  }
}

// For waits: 0 while the server cannot be asked.
int polled_count(const std::string& url, const std::string& sql) {
  const std::string value = scalar(url, sql);
  return value.empty() ? 0 : std::stoi(value);
}

class Failover : public ::testing::Test {
 protected:
  ~Failover() override {
    run_command({kPgCluster, "destroy", primary_dir()});
    run_command({kPgCluster, "destroy", standby_dir()});
  }
  std::string primary_dir() const { return dir.file("primary"); }
  std::string standby_dir() const { return dir.file("standby"); }
  std::string url(int port) const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/esim"; }

  TempDir dir;
  const int primary_port = esim::testing::free_port();
  const int standby_port = esim::testing::free_port();
};

}  // namespace

TEST_F(Failover, RunCarriesOnOnThePromotedStandbyWithAMultiHostUrl) {
  auto started = run_command({kPgCluster, "start", primary_dir(), std::to_string(primary_port), "--fast"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto standby = run_command({kPgCluster, "standby", standby_dir(), std::to_string(primary_port),
                              std::to_string(standby_port)});
  ASSERT_EQ(standby.exit_code, 0) << standby.err;
  scalar(url(primary_port), "CREATE ROLE esim_reader NOLOGIN");

  SimProcess sim({"--packages", "600", "--seed", "3", "--api-key", kSimKey, "--user-id", "reseller-1"});
  const std::string both = "postgresql://postgres@127.0.0.1:" + std::to_string(primary_port) + ",127.0.0.1:" +
                           std::to_string(standby_port) + "/esim?target_session_attrs=read-write";
  dir.write("config.yaml", "api:\n  base_url: " + sim.base_url() +
                               "\n  api_key: ${E2E_API_KEY}\n  user_id: reseller-1\n  max_retries: 1\n"
                               "database:\n  url: " + both + "\nschedule:\n  interval: 1s\n");
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  const std::string succeeded = "SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'";
  ASSERT_TRUE(eventually([&] { return polled_count(url(primary_port), succeeded) >= 2; }, 30))
      << read_file(dir.file("run.log.err"));
  // The standby has replayed them: a hot standby answers reads.
  ASSERT_TRUE(eventually([&] { return polled_count(url(standby_port), succeeded) >= 2; }, 30));

  ASSERT_EQ(run_command({kPgCluster, "kill", primary_dir()}).exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.2"), 200);
  ASSERT_EQ(run_command({kPgCluster, "promote", standby_dir()}).exit_code, 0);
  const int before = polled_count(url(standby_port), succeeded);
  ASSERT_GE(before, 2) << "the promoted standby cannot be asked";  // it had replayed two passes

  // Passes go on against the promoted standby, and the mirror there is the listing.
  ASSERT_TRUE(eventually([&] { return polled_count(url(standby_port), succeeded) >= before + 2; }, 60))
      << read_file(dir.file("run.log.err"));
  EXPECT_TRUE(daemon.running());
  std::map<std::string, std::string> mirror;
  pqxx::connection c(url(standby_port));
  pqxx::nontransaction tx(c);
  for (const auto& row : tx.exec("SELECT id, status FROM esim.packages WHERE removed_at IS NULL")) {
    mirror[row[0].c_str()] = row[1].c_str();
  }
  EXPECT_EQ(mirror, sim.truth());
  // Every change recorded once.
  EXPECT_EQ(scalar(url(standby_port), "SELECT count(*) FROM (SELECT package_id, old_status, new_status, changed_at "
                                      "FROM esim.package_status_history GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"),
            "0");
  EXPECT_EQ(daemon.terminate(), 0);
}
