#pragma once
// The SQL of the history that grows with time: the usage series (esim.package_usage), its daily
// rollups, the daily status stock, and their upkeep (partitions ahead of need, retention).
// Parameters of the apply's statements: $1 the pass's timestamp, $2 the run id.

namespace esim::history_sql {

// The usage writes of an apply, as CTEs that follow a CTE `used`: one row per package whose
// counters moved (or were first seen), with its template, its counters now and what it used
// since the last pass (NULL when unknown). The series gets a narrow row; the per-package and
// per-template daily rollups add it up, so a dashboard reads a day's rows, never the series.
#define ESIM_USAGE_WRITES                                                                              \
  "series AS ("                                                                                        \
  "    INSERT INTO esim.package_usage (package_id, observed_at, data_remaining, voice_remaining, sms_remaining)" \
  "    SELECT id, $1::timestamptz, data_remaining, voice_remaining, sms_remaining FROM used"           \
  "    RETURNING 1"                                                                                    \
  "), per_package_day AS ("                                                                            \
  "    INSERT INTO esim.package_usage_daily AS d (package_id, day, data_remaining, voice_remaining,"   \
  "                                              sms_remaining, data_consumed, voice_consumed, sms_consumed)" \
  "    SELECT id, ($1::timestamptz AT TIME ZONE 'UTC')::date, data_remaining, voice_remaining, sms_remaining," \
  "           coalesce(data_consumed, 0), coalesce(voice_consumed, 0), coalesce(sms_consumed, 0) FROM used" \
  "    ON CONFLICT (package_id, day) DO UPDATE"                                                        \
  "       SET data_remaining = excluded.data_remaining, voice_remaining = excluded.voice_remaining,"    \
  "           sms_remaining = excluded.sms_remaining,"                                                 \
  "           data_consumed = d.data_consumed + excluded.data_consumed,"                               \
  "           voice_consumed = d.voice_consumed + excluded.voice_consumed,"                            \
  "           sms_consumed = d.sms_consumed + excluded.sms_consumed"                                   \
  "), per_template_day AS ("                                                                           \
  "    INSERT INTO esim.template_usage_daily AS t (day, package_template, data_consumed, voice_consumed, sms_consumed)" \
  "    SELECT ($1::timestamptz AT TIME ZONE 'UTC')::date, package_template, coalesce(sum(data_consumed), 0)," \
  "           coalesce(sum(voice_consumed), 0), coalesce(sum(sms_consumed), 0)"                        \
  "      FROM used GROUP BY package_template"                                                          \
  "    HAVING coalesce(sum(data_consumed), 0) + coalesce(sum(voice_consumed), 0) + coalesce(sum(sms_consumed), 0) > 0" \
  "    ON CONFLICT (day, package_template) DO UPDATE"                                                  \
  "       SET data_consumed = t.data_consumed + excluded.data_consumed,"                               \
  "           voice_consumed = t.voice_consumed + excluded.voice_consumed,"                            \
  "           sms_consumed = t.sms_consumed + excluded.sms_consumed"                                   \
  ")"

// The status stock at the end of the pass's UTC day, per status whose count this pass moved:
// the last stock on record plus the pass's transitions (old -1, new +1), found by the pass's
// time ($1, every transition of the pass carries it) and run. Days without a row for a status
// carry the last one forward (esim.status_counts_daily reads it so), so a dashboard of 30 days
// reads at most 30 rows per status however long the history is.
inline constexpr const char* kRollUpStatusStock = R"sql(
WITH moved AS (
    SELECT d.status, sum(d.delta) AS delta
      FROM esim.package_status_history h
     CROSS JOIN LATERAL (VALUES (h.new_status, 1), (h.old_status, -1)) AS d(status, delta)
     WHERE h.changed_at = $1::timestamptz AND h.run_id = $2::bigint AND d.status IS NOT NULL
     GROUP BY d.status
    HAVING sum(d.delta) <> 0
)
INSERT INTO esim.status_stock_daily AS s (day, status, packages)
SELECT ($1::timestamptz AT TIME ZONE 'UTC')::date, m.status,
       coalesce((SELECT x.packages FROM esim.status_stock_daily x WHERE x.status = m.status
                  ORDER BY x.day DESC LIMIT 1), 0) + m.delta
  FROM moved m
ON CONFLICT (day, status) DO UPDATE SET packages = excluded.packages
)sql";

// Before a pass (in a short transaction of its own, under the writer lock): the usage series'
// partitions for the pass's month and the next, and the retention of the series, its daily
// rollup and the run log. $1 the pass's time, $2 usage retention in days, $3 run retention in
// days (0: kept for ever). Returns the partitions dropped.
inline constexpr const char* kPrepareHistory =
    "SELECT esim.prepare_history($1::timestamptz, $2::integer, $3::integer)";

}  // namespace esim::history_sql
