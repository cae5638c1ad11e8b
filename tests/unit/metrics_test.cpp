#include "service/metrics.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

// Lines of /metrics that are samples (not comments).
std::vector<std::string> samples(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

}  // namespace

TEST(Metrics, AStatusFromTheApiCannotForgeASample) {
  esim::Metrics metrics;
  metrics.set_live_packages({{"ACTIVE", 5}, {"X\"} 1\nesim_sync_last_success_timestamp_seconds 4102444800\n# x", 1}});
  const std::string text = metrics.render();
  for (const auto& line : samples(text)) {
    EXPECT_NE(line, "esim_sync_last_success_timestamp_seconds 4102444800") << text;
    EXPECT_EQ(line.find("4102444800"), std::string::npos) << text;
  }
  EXPECT_NE(text.find("esim_sync_packages{status=\"ACTIVE\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_packages{status=\"other\"} 1\n"), std::string::npos) << text;
}

TEST(Metrics, StatusLabelsAreBoundedTheRestCountAsOther) {
  esim::Metrics metrics;
  std::map<std::string, std::int64_t> counts = {{"NOT_ACTIVE", 1}, {"ACTIVE", 2}, {"SUSPENDED", 3}, {"TERMINATED", 4}};
  for (int i = 0; i < 50; ++i) counts["NEW_" + std::to_string(i)] = 100 + i;  // largest: NEW_49..NEW_46
  counts["lower case"] = 7;
  metrics.set_live_packages(counts);
  const std::string text = metrics.render();
  int status_samples = 0;
  for (const auto& line : samples(text)) status_samples += line.rfind("esim_sync_packages{", 0) == 0 ? 1 : 0;
  EXPECT_EQ(status_samples, 4 + 4 + 1) << text;
  EXPECT_NE(text.find("esim_sync_packages{status=\"TERMINATED\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_packages{status=\"NEW_49\"} 149\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_packages{status=\"NEW_46\"} 146\n"), std::string::npos) << text;
  // NEW_0..NEW_45 (100+...+145 = 5635) and "lower case" (7).
  EXPECT_NE(text.find("esim_sync_packages{status=\"other\"} 5642\n"), std::string::npos) << text;
}

TEST(Health, SaysItWaitsForTheDatabaseUntilItReachedIt) {
  esim::Metrics metrics;
  esim::Health waiting = metrics.health();
  EXPECT_EQ(waiting.code, 503);
  EXPECT_NE(waiting.body.find("waiting for the database"), std::string::npos) << waiting.body;
  metrics.set_database_reached();  // connected and migrated, no pass yet
  esim::Health reached = metrics.health();
  EXPECT_EQ(reached.code, 503);
  EXPECT_NE(reached.body.find("no pass succeeded"), std::string::npos) << reached.body;
}

// Issue 20 item 8: the interval in force and the reloads' results, so alert rules need not
// hard-code the interval and a reload that failed is seen.
TEST(Metrics, TheIntervalAndTheReloadsAreExposed) {
  esim::Metrics metrics;
  metrics.set_interval(std::chrono::minutes(5));
  std::string text = metrics.render();
  EXPECT_NE(text.find("esim_sync_interval_seconds 300\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_last_reload_success 1\n"), std::string::npos) << text;  // none yet: nothing failed
  metrics.reload_finished(true);
  metrics.reload_finished(false);
  text = metrics.render();
  EXPECT_NE(text.find("esim_sync_reloads_total{result=\"succeeded\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_reloads_total{result=\"failed\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_last_reload_success 0\n"), std::string::npos) << text;
}
