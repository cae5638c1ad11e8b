// The change feed as a consumer sees it: esim.changes_since followed across 50 passes of a
// churning simulator (lifecycle steps, arrivals, packages that vanish and come back), with a
// failed pass in the middle. The consumer reads in small batches, as esim_reader, and wakes on
// NOTIFY esim_changes. Every change must come exactly once, in commit order, and say what the
// mirror's own records (the status audit and the versions) say the pass did; a failed pass
// emits nothing and wakes no one. The daily stock per plan kept from the same events must
// equal a count of the mirror.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <random>
#include <set>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;

namespace {

// Remembers the payloads of NOTIFY esim_changes.
class Wakeups : public pqxx::notification_receiver {
 public:
  explicit Wakeups(pqxx::connection_base& c) : pqxx::notification_receiver(c, "esim_changes") {}
  void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
  std::vector<std::string> payloads;
};

// "id:kind" of each change of a run, as the consumer read it or as the mirror's records imply.
using Changes = std::multiset<std::string>;

}  // namespace

class ChangeFeed : public EndToEnd {
 protected:
  ChangeFeed() : EndToEnd({"--packages", "600", "--seed", "23"}) {}

  // What the mirror's own tables say run `run` changed, independently of the feed: its
  // transitions (first sighting, back, gone, status), and the packages whose other fields a
  // version of this run shows changed (esim.package_changes) without a transition.
  Changes recorded(long run) {
    Changes out;
    for (const auto& row : db.query(
             "SELECT h.package_id || ':' || CASE WHEN h.new_status IS NULL THEN 'removed' "
             "WHEN h.old_status IS NOT NULL THEN 'status_changed' "
             "WHEN p.first_seen_at = h.changed_at THEN 'inserted' ELSE 'returned' END "
             "FROM esim.package_status_history h JOIN esim.packages p ON p.id = h.package_id WHERE h.run_id = " +
             std::to_string(run))) {
      out.insert(row[0].c_str());
    }
    for (const auto& row : db.query(
             "SELECT DISTINCT c.package_id || ':field_changed' FROM esim.package_changes c WHERE c.run_id = " +
             std::to_string(run) + " AND NOT EXISTS (SELECT 1 FROM esim.package_status_history h "
             "WHERE h.run_id = c.run_id AND h.package_id = c.package_id)")) {
      out.insert(row[0].c_str());
    }
    // The plan catalogue, which holds still here: each template once, when first seen.
    for (const auto& row : db.query("SELECT 'template ' || t.id || ':inserted' FROM esim.package_templates t "
                                    "JOIN esim.sync_runs r ON r.started_at = t.first_seen_at WHERE r.id = " +
                                    std::to_string(run))) {
      out.insert(row[0].c_str());
    }
    return out;
  }
};

TEST_F(ChangeFeed, AConsumerSeesEveryChangeOnceInOrderAcross50PassesAndAFailedPassEmitsNothing) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  db.exec("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_feed_consumer') "
          "THEN CREATE ROLE esim_feed_consumer LOGIN IN ROLE esim_reader; END IF; END $$");
  // The consumer: a login of esim_reader, listening.
  std::string consumer_url = db.url();
  consumer_url.replace(consumer_url.find("postgres@"), 9, "esim_feed_consumer@");
  pqxx::connection consumer(consumer_url);
  Wakeups wakeups(consumer);

  std::mt19937_64 rng(23);
  std::vector<std::string> hidden;
  long long cursor = 0, events_read = 0;
  std::set<long long> seen_ids;
  int failed_passes = 0, passes_with_changes = 0;
  const int kFailedPass = 25;
  for (int pass = 0; pass < 50; ++pass) {
    if (pass > 0) { ASSERT_EQ(sim.post("/_sim/step?fraction=0.03"), 200); }
    if (pass > 0 && rng() % 3 == 0) { ASSERT_EQ(sim.post("/_sim/add?count=" + std::to_string(1 + rng() % 4)), 200); }
    if (rng() % 2 == 0) {
      auto truth = sim.truth();
      auto it = std::next(truth.begin(), static_cast<long>(rng() % truth.size()));
      if (sim.post("/_sim/packages/" + it->first + "/hide") == 200) hidden.push_back(it->first);
    }
    if (!hidden.empty() && rng() % 3 == 0) {
      ASSERT_EQ(sim.post("/_sim/packages/" + hidden.front() + "/unhide"), 200);
      hidden.erase(hidden.begin());
    }
    if (rng() % 3 == 0) {  // a change of another field than the status
      auto truth = sim.truth();
      auto it = std::next(truth.begin(), static_cast<long>(rng() % truth.size()));
      sim.post("/_sim/packages/" + it->first + "/move-sim?to=8999000000000" + std::to_string(100000 + pass));
    }
    if (pass == kFailedPass) { ASSERT_EQ(sim.post("/_sim/fail?after=2&times=1&mode=malformed"), 200); }

    auto result = esim_sync("once");
    const long run = std::stol(last_run("id"));
    if (pass == kFailedPass) {
      ASSERT_NE(result.exit_code, 0) << "the malformed page should have failed the pass";
      ASSERT_EQ(last_run("status"), "failed");
      ++failed_passes;
    } else {
      ASSERT_EQ(result.exit_code, 0) << result.err;
    }

    // Follow the feed to its end, seven at a time (so a pass's events span several reads).
    Changes read;
    for (;;) {
      pqxx::work tx(consumer);
      auto rows = tx.exec_params("SELECT change_id, run_id, entity, entity_id, kind FROM esim.changes_since($1, 7)",
                                 cursor);
      tx.commit();
      if (rows.empty()) break;
      for (const auto& row : rows) {
        const long long id = row[0].as<long long>();
        ASSERT_GT(id, cursor) << "out of order";
        ASSERT_TRUE(seen_ids.insert(id).second) << "change " << id << " read twice";
        ASSERT_EQ(row[1].as<long>(), run) << "a change of another pass came after this pass";
        const std::string entity = row[2].as<std::string>();
        read.insert((entity == "template" ? "template " : "") + row[3].as<std::string>() + ":" + row[4].as<std::string>());
        cursor = id;
        ++events_read;
      }
    }
    ASSERT_EQ(read, recorded(run)) << "pass " << pass << " (run " << run << ")";
    // The wake-up came at the commit, with the run id, only when something changed.
    consumer.get_notifs();
    if (read.empty()) {
      EXPECT_TRUE(wakeups.payloads.empty()) << "pass " << pass << " changed nothing but woke the consumer";
    } else {
      for (int i = 0; i < 50 && wakeups.payloads.empty(); ++i) consumer.await_notification(0, 100'000);
      ASSERT_EQ(wakeups.payloads, std::vector<std::string>{std::to_string(run)}) << "pass " << pass;
      ++passes_with_changes;
    }
    wakeups.payloads.clear();
  }
  EXPECT_EQ(failed_passes, 1);
  EXPECT_GE(passes_with_changes, 45);
  EXPECT_EQ(count("SELECT count(*) FROM esim.change_events"), events_read);
  EXPECT_GT(count("SELECT count(*) FROM esim.change_events WHERE kind = 'removed'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM esim.change_events WHERE kind = 'returned'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM esim.change_events WHERE kind = 'status_changed'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM esim.change_events WHERE kind = 'field_changed'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM esim.change_events e JOIN esim.sync_runs r ON r.id = e.run_id "
                  "WHERE r.status <> 'succeeded'"),
            0);

  // The stock per plan and status, kept pass by pass from the same events, is the mirror's count.
  EXPECT_EQ(db.scalar("SELECT coalesce(string_agg(concat_ws(':', package_template, status, packages), ',' "
                      "ORDER BY package_template, status), '') FROM esim.plan_stock_by_day "
                      "WHERE day = (now() AT TIME ZONE 'UTC')::date AND packages <> 0"),
            db.scalar("SELECT string_agg(concat_ws(':', package_template, status, n), ',' ORDER BY package_template, "
                      "status) FROM (SELECT package_template, status, count(*) AS n FROM esim.packages "
                      "WHERE removed_at IS NULL GROUP BY 1, 2) c"));
}
