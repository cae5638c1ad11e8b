// PgStore's read side for operators: status, the last success, who is the writer. Nothing
// here writes except record_missed_pass.
#include <fmt/format.h>

#include "store/pg_store.h"
#include "util/escape.h"
#include "util/time_format.h"

namespace esim {

namespace {

std::string cell(const pqxx::field& f) { return f.is_null() ? "-" : f.c_str(); }

// The session holding the writer lock of this database (advisory locks are per database; other
// databases on the cluster have writers of their own), named by its application_name.
constexpr const char* kWriterHolder = R"sql(
SELECT a.application_name || ', connected since ' || to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND (l.classid::bigint << 32 | l.objid::bigint) = $1
)sql";

}  // namespace

std::optional<TimePoint> PgStore::last_success() {
  pqxx::nontransaction tx(connection(), "last_success");
  pqxx::row r = tx.exec1(
      "SELECT (extract(epoch FROM max(finished_at)) * 1000000)::bigint FROM esim.sync_runs WHERE status = 'succeeded'");
  if (r[0].is_null()) return std::nullopt;
  return TimePoint(std::chrono::microseconds(r[0].as<long long>()));
}

std::string PgStore::writer_holder() {
  pqxx::nontransaction tx(connection(), "writer_holder");
  auto rows = tx.exec_params(kWriterHolder, writer_lock_key());
  return rows.empty() ? "" : rows[0][0].as<std::string>();
}

void PgStore::record_missed_pass(TimePoint started_at, const std::string& error) {
  pqxx::work tx(connection(), "record_missed_pass");
  tx.exec_params(
      "INSERT INTO esim.sync_runs (started_at, finished_at, status, error) VALUES ($1::timestamptz, "
      "$1::timestamptz, 'failed', $2)",
      util::format_utc_iso8601(started_at), util::valid_utf8(error));
  tx.commit();
}

std::optional<StatusReport> PgStore::status_report(int passes) {
  pqxx::work tx(connection(), "status");
  if (tx.exec1("SELECT to_regclass('esim.sync_runs') IS NULL")[0].as<bool>()) return std::nullopt;
  StatusReport report;
  pqxx::row health = tx.exec1(
      "SELECT stale, to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
      "date_trunc('second', staleness)::text, latest_status, removals_held FROM esim.sync_health");
  report.stale = health[0].as<bool>();
  report.last_success_at = cell(health[1]);
  report.staleness = cell(health[2]);
  report.latest_status = cell(health[3]);
  report.removals_held = !health[4].is_null() && health[4].as<bool>();
  for (const auto& row : tx.exec("SELECT status, packages FROM esim.package_status_counts ORDER BY packages DESC")) {
    report.live_by_status.emplace_back(cell(row[0]), row[1].as<std::int64_t>());
  }
  pqxx::row last = tx.exec1(
      "SELECT coalesce((SELECT removals_deferred FROM esim.sync_runs WHERE status = 'succeeded' ORDER BY id DESC "
      "LIMIT 1), 0), coalesce((SELECT lookups_inconclusive FROM esim.sync_runs WHERE status = 'succeeded' "
      "ORDER BY id DESC LIMIT 1), 0)");
  report.removals_deferred = last[0].as<std::int64_t>();
  report.lookups_inconclusive = last[1].as<std::int64_t>();
  auto holder = tx.exec_params(kWriterHolder, writer_lock_key());
  if (!holder.empty()) report.writer = holder[0][0].as<std::string>();
  const auto count = [](const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::int64_t>(f.as<std::int64_t>());
  };
  for (const auto& r : tx.exec_params(
           "SELECT id, status, (extract(epoch FROM started_at) * 1000)::bigint, "
           "(extract(epoch FROM coalesce(finished_at, clock_timestamp()) - started_at) * 1000)::bigint, "
           "packages_seen, inserted, updated, removed, status_changes, coalesce(error, warning, '') "
           "FROM esim.sync_runs ORDER BY id DESC LIMIT $1",
           passes)) {
    report.runs.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
                           std::chrono::milliseconds(r[3].as<std::int64_t>()), count(r[4]), count(r[5]),
                           count(r[6]), count(r[7]), count(r[8]), r[9].as<std::string>()});
  }
  return report;
}

}  // namespace esim
