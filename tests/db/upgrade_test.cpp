// Migration 0006 upgrades a database that the previous release (migrations 0001-0005) filled,
// in place: every row stays as it was, the status audit keeps answering for the days before
// the upgrade, and the first pass after it writes versions from the rows it finds.
#include <gtest/gtest.h>

#include <map>

#include "store/migrator.h"
#include "store/pg_store.h"
#include "support/test_database.h"

using esim::Package;
using esim::PgStore;
using esim::testing::TestDatabase;
using namespace std::chrono_literals;

namespace {

// What the previous release wrote for three passes on 2024-10-04, -05 and -06 (12:00 UTC), as
// its apply statements write it: a package extended and terminated, one removed, one that
// never changed, a removal candidate, a failed pass.
const char* kFilledByRelease5 = R"sql(
INSERT INTO esim.sync_runs (started_at, finished_at, status, packages_seen, inserted, updated, unchanged, removed,
                            status_changes, error, interval_seconds, listing_attempts, lookups, removed_by_lookup,
                            removals_deferred)
VALUES ('2024-10-04 12:00Z', '2024-10-04 12:00:05Z', 'succeeded', 3, 3, 0, 0, 0, 0, NULL, 900, 1, 0, 0, 0),
       ('2024-10-05 12:00Z', '2024-10-05 12:00:05Z', 'succeeded', 2, 0, 1, 1, 1, 1, NULL, 900, 1, 1, 1, 0),
       ('2024-10-05 13:00Z', '2024-10-05 13:00:01Z', 'failed', 0, 0, 0, 0, 0, 0, 'HTTP 503', 900, 1, 0, 0, 0),
       ('2024-10-06 12:00Z', '2024-10-06 12:00:05Z', 'succeeded', 2, 0, 0, 1, 0, 0, NULL, 900, 1, 0, 0, 1);
INSERT INTO esim.packages (id, sim, package_template, status, created_date, activated_date, expiry_date, raw, raw_md5,
                           first_seen_at, updated_at, removed_at)
VALUES ('a', '8914a', 7, 'TERMINATED', '2024-09-01Z', '2024-09-02Z', '2024-11-02Z',
        '{"id":"a","status":"TERMINATED","expiry_date":1730505600000}', md5('{"id":"a","status":"TERMINATED","expiry_date":1730505600000}')::uuid,
        '2024-10-04 12:00Z', '2024-10-05 12:00Z', NULL),
       ('b', '8914b', 7, 'ACTIVE', '2024-09-01Z', NULL, NULL, '{"id":"b","status":"ACTIVE"}',
        md5('{"id":"b","status":"ACTIVE"}')::uuid, '2024-10-04 12:00Z', '2024-10-05 12:00Z', '2024-10-05 12:00Z'),
       ('c', '8914c', 8, 'NOT_ACTIVE', '2024-09-03Z', NULL, NULL, '{"id":"c","status":"NOT_ACTIVE"}',
        md5('{"id":"c","status":"NOT_ACTIVE"}')::uuid, '2024-10-04 12:00Z', '2024-10-04 12:00Z', NULL);
INSERT INTO esim.package_status_history (package_id, old_status, new_status, changed_at, run_id)
VALUES ('a', NULL, 'ACTIVE', '2024-10-04 12:00Z', 1), ('b', NULL, 'ACTIVE', '2024-10-04 12:00Z', 1),
       ('c', NULL, 'NOT_ACTIVE', '2024-10-04 12:00Z', 1),
       ('a', 'ACTIVE', 'TERMINATED', '2024-10-05 12:00Z', 2), ('b', 'ACTIVE', NULL, '2024-10-05 12:00Z', 2);
INSERT INTO esim.removal_candidates (package_id, first_missed_at, run_id) VALUES ('c', '2024-10-06 12:00Z', 4);
)sql";

// Every row of every table in schema esim, as text, table by table.
// How many columns each table of the schema has now.
std::map<std::string, int> column_counts(TestDatabase& db) {
  std::map<std::string, int> out;
  for (const auto& row : db.query("SELECT table_name, count(*) FROM information_schema.columns "
                                  "WHERE table_schema = 'esim' AND table_name IN (SELECT tablename FROM pg_tables "
                                  "WHERE schemaname = 'esim' AND tablename NOT IN ('schema_migrations', "
                                  "'package_versions')) GROUP BY 1")) {
    out[row[0].c_str()] = std::stoi(row[1].c_str());
  }
  return out;
}

// Every row of the tables given, in their first `count` columns (by position: a later migration
// may rename a column or add new ones after, and must keep every value that was there).
std::string every_row(TestDatabase& db, const std::map<std::string, int>& tables) {
  std::string out;
  for (const auto& [table, count] : tables) {
    const std::string columns = db.scalar(
        "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns "
        "WHERE table_schema = 'esim' AND table_name = '" + table + "' AND ordinal_position <= " + std::to_string(count));
    out += table + ":\n" +
           db.scalar("SELECT string_agg(r::text, E'\\n' ORDER BY r::text) FROM (SELECT " + columns + " FROM esim." +
                     table + ") r") +
           "\n";
  }
  return out;
}

}  // namespace

TEST(Upgrade, Migration6KeepsEveryRowAndVersionsStartFromTheRowsFound) {
  TestDatabase db;
  {
    pqxx::connection c(db.url());
    const auto& all = esim::embedded_migrations();
    ASSERT_GE(all.size(), 6u);
    esim::migrate(c, std::vector<esim::Migration>(all.begin(), all.begin() + 5));
  }
  db.exec(kFilledByRelease5);
  const auto release5 = column_counts(db);
  const std::string before = every_row(db, release5);
  ASSERT_NE(before.find("TERMINATED"), std::string::npos);

  PgStore store(db.url());
  auto result = store.migrate();
  ASSERT_EQ(result.applied.size(), esim::embedded_migrations().size() - 5);  // 0006 and every later one
  EXPECT_EQ(result.applied[0], "0006_package_versions.sql");
  EXPECT_EQ(every_row(db, release5), before);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_versions"), "0");

  // The days before the upgrade come from the status audit, which the release kept complete.
  EXPECT_EQ(db.scalar("SELECT string_agg(day || ' ' || status || '=' || packages, ', ' ORDER BY day, status) "
                      "FROM esim.status_counts_daily WHERE day <= '2024-10-06' AND packages > 0"),
            "2024-10-04 ACTIVE=2, 2024-10-04 NOT_ACTIVE=1, 2024-10-05 NOT_ACTIVE=1, 2024-10-05 TERMINATED=1, "
            "2024-10-06 NOT_ACTIVE=1, 2024-10-06 TERMINATED=1");
  EXPECT_EQ(db.scalar("SELECT string_agg(package_id || ' ' || status || ' ' || (valid_to - valid_from), ', ' "
                      "ORDER BY package_id, valid_from) FROM esim.package_status_intervals WHERE valid_to IS NOT NULL"),
            "a ACTIVE 1 day, b ACTIVE 1 day");

  // The first pass after the upgrade: a's expiry is extended, b comes back, c stays as it was.
  Package a{"a", std::string("8914a"), 7, "TERMINATED", 1725148800000, 1725235200000, 1733097600000,
            R"({"id":"a","status":"TERMINATED","expiry_date":1733097600000})"};
  Package b{"b", std::string("8914b"), 7, "ACTIVE", 1725148800000, std::nullopt, std::nullopt, R"({"id":"b","status":"ACTIVE"})"};
  Package c{"c", std::string("8914c"), 8, "NOT_ACTIVE", 1725321600000, std::nullopt, std::nullopt,
            R"({"id":"c","status":"NOT_ACTIVE"})"};
  const auto at = esim::TimePoint(std::chrono::hours(24 * 20'004) + 12h);  // 2024-10-08 12:00 UTC
  auto run = store.start_run(at, 900s);
  auto staging = store.open_pass(run);
  staging->stage({a, b, c});
  auto counts = esim::PassDiff::apply(esim::PassStaging::diff(std::move(staging)), {at, true, 1, ""});
  EXPECT_EQ(counts.updated, 2);
  EXPECT_EQ(counts.unchanged, 1);
  EXPECT_EQ(db.scalar("SELECT string_agg(concat_ws(' ', package_id, listed, esim.utc_text(valid_from), esim.utc_text(valid_to)), ', ' "
                      "ORDER BY package_id) FROM esim.package_versions"),
            "a t 2024-10-05T12:00:00.000Z 2024-10-08T12:00:00.000Z, b f 2024-10-05T12:00:00.000Z 2024-10-08T12:00:00.000Z");
  EXPECT_EQ(db.scalar("SELECT string_agg(id || ' ' || coalesce(esim.utc_text(expiry_date), '-'), ', ' ORDER BY id) "
                      "FROM esim.packages_as_of('2024-10-08 11:59:59Z')"),
            "a 2024-11-02T00:00:00.000Z, c -");
  EXPECT_EQ(db.scalar("SELECT string_agg(id || ' ' || coalesce(esim.utc_text(expiry_date), '-'), ', ' ORDER BY id) "
                      "FROM esim.packages_as_of('2024-10-08 12:00Z')"),
            "a 2024-12-02T00:00:00.000Z, b -, c -");
  EXPECT_EQ(db.scalar("SELECT string_agg(package_id || ' ' || field || ' ' || old_value || ' -> ' || new_value, ', ' "
                      "ORDER BY package_id, field) FROM esim.package_changes"),
            "a expiry_date 2024-11-02T00:00:00.000Z -> 2024-12-02T00:00:00.000Z, b listed false -> true");
}
