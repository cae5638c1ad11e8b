#pragma once
// The SQL of the change feed (migration 0011): the events of one applied pass and the daily
// stock per plan they move, written in the pass's own transaction after its changes.
// Parameters: $1 the pass's timestamp (timestamptz text), $2 the run id.
//
// The events are derived from what the apply just wrote, found through the indexes by the pass's
// time (valid_to, changed_at) and its run id: each version of this pass is one package the pass
// rewrote, brought back or removed; each first-sighting transition without a version is one it
// inserted. So a pass that changed nothing reads a few index entries and writes nothing, and no
// statement of the apply itself had to change. (A first sighting asks the versions' index by
// package whether its package has a version of this run: asked of the CTE, or with the pass's
// time too, the planner scanned all of the pass's versions once per insert, seconds at 5,000
// inserts and 9,000 versions, twenty at 15,000 and 25,000.)

namespace esim::change_feed_sql {

// One statement: the events in package id order (change_id follows the order of the INSERT's
// rows), and from them the stock per plan and status of the pass's UTC day: +1 to the new plan
// and status, -1 to the old. The stock row of the day starts from the last row before it.
inline constexpr const char* kRecordPackageChanges = R"sql(
WITH versions AS (
    SELECT v.package_id, v.sim, v.package_template, v.status, v.created_date, v.activated_date, v.expiry_date,
           v.raw, v.listed
      FROM esim.package_versions v
     WHERE v.valid_to = $1::timestamptz AND v.run_id = $2::bigint
), events AS (
    SELECT v.package_id AS entity_id,
           CASE WHEN NOT v.listed THEN 'returned'
                WHEN p.removed_at IS NOT NULL THEN 'removed'
                WHEN v.status IS DISTINCT FROM p.status THEN 'status_changed'
                ELSE 'field_changed' END AS kind,
           CASE WHEN v.listed THEN v.status END AS old_status,
           CASE WHEN p.removed_at IS NULL THEN p.status END AS new_status,
           CASE WHEN v.listed THEN v.package_template END AS old_template,
           CASE WHEN p.removed_at IS NULL THEN p.package_template END AS new_template,
           CASE WHEN v.listed AND p.removed_at IS NULL THEN ARRAY(
               SELECT f FROM (
                   SELECT x.f FROM (VALUES ('status', v.status IS DISTINCT FROM p.status),
                                           ('sim', v.sim IS DISTINCT FROM p.sim),
                                           ('package_template', v.package_template IS DISTINCT FROM p.package_template),
                                           ('created_date', v.created_date IS DISTINCT FROM p.created_date),
                                           ('activated_date', v.activated_date IS DISTINCT FROM p.activated_date),
                                           ('expiry_date', v.expiry_date IS DISTINCT FROM p.expiry_date)) x(f, differs)
                    WHERE x.differs
                   UNION ALL
                   SELECT 'raw.' || k.key
                     FROM (SELECT jsonb_object_keys(v.raw) UNION SELECT jsonb_object_keys(p.raw)) k(key)
                    WHERE k.key NOT IN ('id', 'sim', 'package_template', 'status', 'created_date', 'activated_date',
                                        'expiry_date')
                      AND (v.raw -> k.key) IS DISTINCT FROM (p.raw -> k.key)) changed(f)
                ORDER BY f)
           ELSE '{}' END AS fields
      FROM versions v
      JOIN esim.packages p ON p.id = v.package_id
    UNION ALL
    SELECT h.package_id, 'inserted', NULL, h.new_status, NULL, p.package_template, '{}'
      FROM esim.package_status_history h
      JOIN esim.packages p ON p.id = h.package_id
     WHERE h.changed_at = $1::timestamptz AND h.run_id = $2::bigint AND h.old_status IS NULL
       AND NOT EXISTS (SELECT 1 FROM esim.package_versions v WHERE v.package_id = h.package_id AND v.run_id = $2::bigint)
), written AS (
    INSERT INTO esim.change_events (run_id, changed_at, entity, entity_id, kind, old_status, new_status,
                                    old_template, new_template, fields)
    SELECT $2::bigint, $1::timestamptz, 'package', entity_id, kind, old_status, new_status, old_template,
           new_template, fields
      FROM events
     ORDER BY entity_id
    RETURNING old_status, new_status, old_template, new_template
), deltas AS (
    SELECT d.package_template, d.status, sum(d.delta) AS delta
      FROM written w
     CROSS JOIN LATERAL (VALUES (w.new_template, w.new_status, 1), (w.old_template, w.old_status, -1))
           AS d(package_template, status, delta)
     WHERE d.status IS NOT NULL
     GROUP BY 1, 2
    HAVING sum(d.delta) <> 0
), stock AS (
    INSERT INTO esim.plan_stock_daily AS s (day, package_template, status, delta, packages)
    SELECT ($1::timestamptz AT TIME ZONE 'UTC')::date, d.package_template, d.status, d.delta,
           coalesce((SELECT l.packages FROM esim.plan_stock_daily l
                      WHERE (l.package_template = d.package_template
                             OR (l.package_template IS NULL AND d.package_template IS NULL))
                        AND l.status = d.status AND l.day <= ($1::timestamptz AT TIME ZONE 'UTC')::date
                      ORDER BY l.day DESC LIMIT 1), 0) + d.delta
      FROM deltas d
    ON CONFLICT (package_template, status, day)
    DO UPDATE SET delta = s.delta + excluded.delta, packages = excluded.packages
)
SELECT count(*) FROM written
)sql";

// A wake-up for consumers (LISTEN esim_changes): the run id, not the data. Delivered at COMMIT,
// so a listener never wakes before the events are visible, and never for a pass rolled back.
inline constexpr const char* kNotify = "SELECT pg_notify('esim_changes', $1::bigint::text)";

}  // namespace esim::change_feed_sql
