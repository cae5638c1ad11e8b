// SDK 1.0.10's usage counters change on nearly every pass for every ACTIVE package. Their changes
// alone (sync.volatile_fields) must make no version, no transition and no package_changes row:
// the current row takes the latest counters and raw in place, and the counters go to the narrow
// series esim.package_usage instead. Every other field still versions exactly as before.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;

namespace {

class UsageCounters : public EndToEnd {
 protected:
  // Every walk of the listing drains the counters of the ACTIVE packages (--usage-drain).
  UsageCounters() : EndToEnd({"--packages", "600", "--seed", "11", "--usage-drain"}) {}

  // The simulator's counters now: id -> "data,voice,sms".
  std::map<std::string, std::string> sim_usage() {
    std::string base = sim.base_url();
    base.erase(base.find("/api/v1/esim"));
    std::string body;
    EXPECT_EQ(esim::testing::http_get(base + "/_sim/usage", &body), 200);
    std::map<std::string, std::string> out;
    const nlohmann::json usage = nlohmann::json::parse(body);
    for (const auto& [id, c] : usage.items()) {
      out[id] = std::to_string(c[0].get<long long>()) + "," + std::to_string(c[1].get<long long>()) + "," +
                std::to_string(c[2].get<long long>());
    }
    return out;
  }

  // The mirror's counters: id -> "data,voice,sms", from raw (the API's text) and from the typed
  // columns; both must say the same.
  std::map<std::string, std::string> mirror_usage(const std::string& from_raw_or_typed) {
    const std::string columns =
        from_raw_or_typed == "raw"
            ? "concat_ws(',', raw->>'data_usage_remaining', raw->>'voice_usage_remaining', raw->>'sms_usage_remaining')"
            : "concat_ws(',', data_usage_remaining, voice_usage_remaining, sms_usage_remaining)";
    std::map<std::string, std::string> out;
    for (const auto& row : db.query("SELECT id, " + columns + " FROM esim.packages WHERE removed_at IS NULL")) {
      out[row[0].c_str()] = row[1].c_str();
    }
    return out;
  }

  int versions() { return count("SELECT count(*) FROM esim.package_versions"); }
  int transitions_after_first_load() {
    return count("SELECT count(*) FROM esim.package_status_history WHERE old_status IS NOT NULL");
  }
};

}  // namespace

TEST_F(UsageCounters, CountersFallingAloneMakeNoVersionAndTheMirrorKeepsTheirLatestValues) {
  auto first = esim_sync("once");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const int active = count("SELECT count(*) FROM esim.packages WHERE status = 'ACTIVE'");
  ASSERT_GT(active, 100);
  // The first sighting is the first observation of each package's counters.
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_usage"), 600);
  const auto loaded = mirror_usage("typed");

  for (int pass = 0; pass < 3; ++pass) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(last_run("updated"), "0") << "pass " << pass;
    EXPECT_EQ(last_run("usage_changes"), std::to_string(active)) << "pass " << pass;
  }
  EXPECT_EQ(versions(), 0);
  EXPECT_EQ(transitions_after_first_load(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_changes"), 0);
  EXPECT_EQ(mirror(), sim.truth());

  // The current rows hold what the API sends now, in raw and in the typed columns.
  const auto now = sim_usage();
  EXPECT_EQ(mirror_usage("raw"), now);
  EXPECT_EQ(mirror_usage("typed"), now);
  int moved = 0;
  for (const auto& [id, usage] : now) moved += loaded.at(id) != usage;
  EXPECT_EQ(moved, active);
  // The series: the first observation of every package, then one row per pass for each ACTIVE one.
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_usage"), 600 + 3 * active);
  EXPECT_EQ(count("SELECT count(DISTINCT observed_at) FROM esim.package_usage"), 4);
  // The day's consumption per package is what its data counter fell by since the first pass.
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_usage_daily d JOIN esim.packages p ON p.id = d.package_id "
                  "WHERE d.data_consumed = (SELECT first.data_remaining FROM esim.package_usage first "
                  "WHERE first.package_id = p.id ORDER BY observed_at LIMIT 1) - p.data_usage_remaining "
                  "AND d.data_remaining = p.data_usage_remaining"),
            600);
}

TEST_F(UsageCounters, ACounterAndAStatusChangingTogetherMakeOneVersionAndOneTransition) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string id = db.scalar("SELECT min(id) FROM esim.packages WHERE status = 'ACTIVE'");
  const std::string moved_sim = db.scalar("SELECT max(id) FROM esim.packages WHERE status = 'ACTIVE'");
  ASSERT_EQ(sim.post("/_sim/packages/" + id + "/status?status=TERMINATED"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + moved_sim + "/move-sim"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(last_run("updated"), "2");
  EXPECT_EQ(last_run("status_changes"), "1");
  EXPECT_EQ(db.scalar("SELECT string_agg(package_id, ',' ORDER BY package_id) FROM esim.package_versions"),
            id + "," + moved_sim);
  EXPECT_EQ(db.scalar("SELECT string_agg(package_id || ' ' || old_status || '>' || new_status, ',') "
                      "FROM esim.package_status_history WHERE old_status IS NOT NULL"),
            id + " ACTIVE>TERMINATED");
  EXPECT_EQ(db.scalar("SELECT string_agg(package_id || ' ' || field, ',' ORDER BY package_id, field) "
                      "FROM esim.package_changes WHERE field NOT LIKE 'raw.%_usage_remaining'"),
            id + " status," + moved_sim + " sim");
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(mirror_usage("raw"), sim_usage());
  // The version keeps the counters the replaced row held.
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_versions v JOIN esim.package_usage u "
                  "ON u.package_id = v.package_id AND u.observed_at = v.valid_from "
                  "WHERE (v.raw->>'data_usage_remaining')::bigint = u.data_remaining"),
            2);
}

TEST_F(UsageCounters, WithNoVolatileFieldsEveryCounterChangeIsAVersionAgain) {
  dir.write("config.yaml", esim::testing::read_file(dir.file("config.yaml")) + "sync:\n  volatile_fields: \"\"\n");
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const int active = count("SELECT count(*) FROM esim.packages WHERE status = 'ACTIVE'");
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(last_run("updated"), std::to_string(active));
  EXPECT_EQ(versions(), active);
  EXPECT_EQ(transitions_after_first_load(), 0);
}
