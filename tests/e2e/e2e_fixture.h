#pragma once
// The whole product for one test: a fresh database, the simulator, and a config file for the
// esim-sync binary pointing at both.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "support/subprocess.h"
#include "support/test_database.h"

namespace esim::testing {

inline const std::string kSimKey = "e2e-secret-key-4c1d";

// A number from the environment (a soak's size, its seed), or the fallback when unset.
inline long env_or(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atol(value) : fallback;
}

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class EndToEnd : public ::testing::Test {
 protected:
  explicit EndToEnd(std::vector<std::string> sim_args = {"--packages", "2500", "--seed", "7"})
      : sim(with_key(std::move(sim_args))) {
    write_config(sim.base_url());
  }

  static std::vector<std::string> with_key(std::vector<std::string> args) {
    args.insert(args.end(), {"--api-key", kSimKey, "--user-id", "reseller-1"});
    return args;
  }

  void write_config(const std::string& base_url, int page_size = 100, const std::string& extra_api = "") {
    dir.write("config.yaml", "api:\n  base_url: " + base_url +
                                 "\n  api_key: ${E2E_API_KEY}\n  user_id: reseller-1\n  page_size: " +
                                 std::to_string(page_size) +
                                 // Quick retries keep fault tests short; the policy itself is unit-tested.
                                 "\n  max_retries: 2\n  max_retry_wait: 5s\n  low_speed_time: 2s\n" + extra_api +
                                 "database:\n  url: " + db.url() +
                                 "\nschedule:\n  interval: 1s\nlogging:\n  level: debug\n");
  }

  RunResult esim_sync(const std::string& command, std::map<std::string, std::string> env = {}) {
    env.emplace("E2E_API_KEY", kSimKey);
    return run_command({ESIM_SYNC_BINARY, command, "--config", dir.file("config.yaml")}, env);
  }

  // Live packages in the mirror: id -> status.
  std::map<std::string, std::string> mirror() {
    std::map<std::string, std::string> out;
    for (const auto& row : db.query("SELECT id, status FROM esim.packages WHERE removed_at IS NULL")) {
      out[row[0].c_str()] = row[1].c_str();
    }
    return out;
  }

  // A count from SQL, for assertions: throws when the query fails (a typo in its SQL, a table
  // that is not there), so that EXPECT_EQ(count(...), 0) can never pass on an error.
  int count(const std::string& sql) { return std::stoi(db.scalar(sql)); }

  // The same, for polling while the daemon migrates or the server restarts: 0 while it cannot
  // be asked. Only inside a wait (eventually, a retry loop), never in an assertion.
  int polled_count(const std::string& sql) {
    try {
      return count(sql);
    } catch (const std::exception&) {
      return 0;
    }
  }

  // Packages the simulator lists that the mirror has marked removed: there must never be any.
  std::string falsely_removed() {
    auto truth = sim.truth();
    std::string out;
    for (const auto& row : db.query("SELECT id FROM esim.packages WHERE removed_at IS NOT NULL ORDER BY id")) {
      if (truth.count(row[0].c_str())) out += std::string(row[0].c_str()) + " ";
    }
    return out;
  }

  // One column of the last run's row, as text ("-" for NULL).
  std::string last_run(const std::string& column) {
    return db.scalar("SELECT coalesce(" + column + "::text, '-') FROM esim.sync_runs ORDER BY id DESC LIMIT 1");
  }

  // Everything a failed pass must leave untouched, as one comparable text.
  std::string snapshot() {
    return db.scalar(
        "SELECT md5(coalesce(string_agg(concat_ws('|', id, status, sim, removed_at, updated_at, raw::text), "
        "',' ORDER BY id), '')) || ':' || (SELECT count(*) FROM esim.package_status_history) FROM esim.packages");
  }

  TestDatabase db;
  TempDir dir;
  SimProcess sim;
};

}  // namespace esim::testing
