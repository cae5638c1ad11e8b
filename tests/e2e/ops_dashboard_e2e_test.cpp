// The operations dashboard (deploy/grafana/esim-sync-ops.json) and the alert rules
// (deploy/prometheus/esim-sync.rules.yml) against what a running daemon really serves: a panel
// or an alert on a metric name the daemon does not expose would show "No data" or never fire,
// and nothing else would notice.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "e2e/daemon_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::EndToEnd;
using esim::testing::eventually;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;

namespace {

const std::string kDashboard = std::string(ESIM_SOURCE_DIR) + "/deploy/grafana/esim-sync-ops.json";
const std::string kRules = std::string(ESIM_SOURCE_DIR) + "/deploy/prometheus/esim-sync.rules.yml";

nlohmann::json load_dashboard() {
  std::ifstream in(kDashboard);
  if (!in) throw std::runtime_error(kDashboard + " is missing");
  return nlohmann::json::parse(in);  // throws on invalid JSON
}

// Every PromQL expression of the dashboard's panels, with the panel's title.
std::vector<std::pair<std::string, std::string>> panel_queries(const nlohmann::json& dashboard) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& panel : dashboard.at("panels")) {
    for (const auto& target : panel.at("targets")) out.emplace_back(panel.at("title"), target.at("expr"));
  }
  return out;
}

// The esim-sync metric names an expression mentions.
std::set<std::string> metric_names_in(const std::string& expression) {
  static const std::regex name("esim_sync_[a-z_]*[a-z]");
  std::set<std::string> out;
  for (std::sregex_iterator it(expression.begin(), expression.end(), name), end; it != end; ++it) out.insert(it->str());
  return out;
}

// The metric names that have samples in a /metrics text.
std::set<std::string> sample_names(const std::string& metrics) {
  std::set<std::string> out;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return out;
}

}  // namespace

// A daemon with metrics.listen that has finished a pass, scraped once.
class LiveMetrics : public EndToEnd {
 protected:
  LiveMetrics() : EndToEnd({"--packages", "300", "--seed", "11"}) {}

  std::set<std::string> scrape_after_a_pass() {
    const int port = esim::testing::free_port();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    dir.write("config.yaml", read_file(dir.file("config.yaml")) + "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
    BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                             {{"E2E_API_KEY", kSimKey}});
    // /healthz turns 200 once a pass has succeeded, so every family has its samples.
    const bool passed = eventually([&] {
      try {
        return esim::testing::http_get(base + "/healthz") == 200;
      } catch (const std::exception&) {
        return false;
      }
    });
    if (!passed) throw std::runtime_error("no pass succeeded: " + read_file(dir.file("run.log.err")));
    std::string metrics;
    if (esim::testing::http_get(base + "/metrics", &metrics) != 200) throw std::runtime_error("GET /metrics failed");
    EXPECT_EQ(daemon.terminate(), 0);
    return sample_names(metrics);
  }
};

TEST_F(LiveMetrics, OpsDashboardQueriesOnlyMetricsTheDaemonExposes) {
  const auto dashboard = load_dashboard();
  const auto exposed = scrape_after_a_pass();
  std::set<std::string> queried;
  for (const auto& [title, expression] : panel_queries(dashboard)) {
    const auto names = metric_names_in(expression);
    EXPECT_FALSE(names.empty()) << title << ": " << expression << " queries no esim-sync metric";
    for (const auto& name : names) {
      EXPECT_TRUE(exposed.count(name)) << title << ": " << name << " is not in /metrics";
      queried.insert(name);
    }
  }
  for (const auto& variable : dashboard.at("templating").at("list")) {
    for (const auto& name : metric_names_in(variable.at("definition"))) {
      EXPECT_TRUE(exposed.count(name)) << "variable " << variable.at("name") << ": " << name << " is not in /metrics";
    }
  }
  // What the operations view is for: pass outcomes and duration, packages by status, API
  // requests by code and retries, lag since the last success.
  for (const char* wanted : {"esim_sync_passes_total", "esim_sync_last_pass_duration_seconds", "esim_sync_packages",
                             "esim_sync_api_requests_total", "esim_sync_api_retries_total",
                             "esim_sync_last_success_timestamp_seconds"}) {
    EXPECT_TRUE(queried.count(wanted)) << "no panel shows " << wanted;
  }
}

TEST_F(LiveMetrics, AlertRulesWatchOnlyMetricsTheDaemonExposes) {
  const auto exposed = scrape_after_a_pass();
  int alerts = 0;
  for (const auto& group : YAML::LoadFile(kRules)["groups"]) {
    for (const auto& rule : group["rules"]) {
      // Alerts and the recording rules they read (job:esim_sync_...:max names the metric it
      // is made of, so it is checked as that metric).
      const bool is_alert = rule["alert"].IsDefined();
      const std::string alert = (is_alert ? rule["alert"] : rule["record"]).as<std::string>();
      const std::string expression = rule["expr"].as<std::string>();
      const auto names = metric_names_in(expression);
      EXPECT_FALSE(names.empty()) << alert << " watches no esim-sync metric";
      for (const auto& name : names) EXPECT_TRUE(exposed.count(name)) << alert << ": " << name << " is not in /metrics";
      if (is_alert) ++alerts;
    }
  }
  EXPECT_EQ(alerts, 6);
}

// Each panel's query parses as PromQL: promtool checks them as recording rules (with the
// dashboard's variables given values, as Grafana does before it sends a query).
TEST(OpsDashboard, EveryPanelQueryIsValidPromQLOnAPrometheusSource) {
  const auto dashboard = load_dashboard();
  std::string rules = "groups:\n  - name: ops_dashboard\n    rules:\n";
  int n = 0;
  for (const auto& [title, expression] : panel_queries(dashboard)) {
    std::string query = std::regex_replace(expression, std::regex("\\$__rate_interval"), "5m");
    query = std::regex_replace(query, std::regex("\\$job"), ".*");
    rules += "      - record: panel_query_" + std::to_string(++n) + "\n        expr: " + nlohmann::json(query).dump() + "\n";
  }
  for (const auto& panel : dashboard.at("panels")) {
    EXPECT_EQ(panel.at("datasource").at("type"), "prometheus") << panel.at("title");
  }
  esim::testing::TempDir dir;
  dir.write("queries.yml", rules);
  auto result = run_command({"/bin/sh", "-c", "promtool check rules " + dir.file("queries.yml")});  // found on PATH
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << rules;
  EXPECT_GE(n, 10);
}
