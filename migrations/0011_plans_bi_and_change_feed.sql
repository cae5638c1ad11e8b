-- Plans by name, the questions eSIM resellers ask every week, and a change feed others can
-- follow (issue 23). Adds objects only: every existing row stays as it is. Depends on nothing
-- after migration 0009.

-- 1. The plan catalogue (GET /package-templates), mirrored like the packages: the current copy,
--    superseded versions, and the two-walk rule's memory. Typed id, name and status; everything
--    else as sent in raw (the REST documentation's and the SDK's shapes differ).
CREATE TABLE esim.package_templates (
    id            bigint PRIMARY KEY,
    name          text,
    status        text,
    raw           jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    removed_at    timestamptz
);
COMMENT ON TABLE esim.package_templates IS 'Current copy of every package template (plan) GET /package-templates has listed; removed_at is set once its absence is proven. Never holds a template the catalogue did not send (see esim.plans for templates referenced by packages only).';
COMMENT ON COLUMN esim.package_templates.id IS 'Template id: the value packages carry in package_template.';
COMMENT ON COLUMN esim.package_templates.name IS 'Plan name as the API sent it.';
COMMENT ON COLUMN esim.package_templates.status IS 'Status as sent (SDK: Active, Not Active, De-activated); NULL when the shape has none (REST documentation).';
COMMENT ON COLUMN esim.package_templates.raw IS 'The template object exactly as the API sent it (price, currency, validity_days, data_allowance, or supported_countries, data_usage_allowance, time_allowance, ...).';
COMMENT ON COLUMN esim.package_templates.first_seen_at IS 'Start time of the sync pass that first listed the template.';
COMMENT ON COLUMN esim.package_templates.updated_at IS 'Start time of the last sync pass that changed this row.';
COMMENT ON COLUMN esim.package_templates.removed_at IS 'NULL while the catalogue lists it; when its absence was proven otherwise.';

CREATE TABLE esim.package_template_versions (
    template_id bigint NOT NULL,
    name        text,
    status      text,
    raw         jsonb NOT NULL,
    listed      boolean NOT NULL,
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz NOT NULL,
    run_id      bigint NOT NULL
);
CREATE INDEX package_template_versions_template_idx ON esim.package_template_versions (template_id, valid_from);
CREATE INDEX package_template_versions_valid_to_idx ON esim.package_template_versions (valid_to);
COMMENT ON TABLE esim.package_template_versions IS 'Superseded versions of each template, one row per change a pass made (the current version is the esim.package_templates row).';
COMMENT ON COLUMN esim.package_template_versions.template_id IS 'The template (esim.package_templates.id).';
COMMENT ON COLUMN esim.package_template_versions.name IS 'Name during this version.';
COMMENT ON COLUMN esim.package_template_versions.status IS 'Status during this version.';
COMMENT ON COLUMN esim.package_template_versions.raw IS 'The template object as sent during this version.';
COMMENT ON COLUMN esim.package_template_versions.listed IS 'False for a version in which the template was no longer listed (removed), until it came back.';
COMMENT ON COLUMN esim.package_template_versions.valid_from IS 'Start time of the pass from which this version was current.';
COMMENT ON COLUMN esim.package_template_versions.valid_to IS 'Start time of the pass that superseded it (exclusive).';
COMMENT ON COLUMN esim.package_template_versions.run_id IS 'The esim.sync_runs row of the pass that superseded it.';

CREATE TABLE esim.template_removal_candidates (
    template_id     bigint PRIMARY KEY,
    first_missed_at timestamptz NOT NULL,
    run_id          bigint NOT NULL
);
COMMENT ON TABLE esim.template_removal_candidates IS 'Live templates a complete walk of the catalogue lacked: a second complete walk that lacks them too removes them (the two-walk rule).';
COMMENT ON COLUMN esim.template_removal_candidates.template_id IS 'The template.';
COMMENT ON COLUMN esim.template_removal_candidates.first_missed_at IS 'Start time of the pass that first missed it.';
COMMENT ON COLUMN esim.template_removal_candidates.run_id IS 'The esim.sync_runs row of that pass.';

ALTER TABLE esim.sync_runs ADD COLUMN templates_seen integer, ADD COLUMN templates_changed integer;
COMMENT ON COLUMN esim.sync_runs.templates_seen IS 'Templates the catalogue listed in this pass; NULL: the pass did not walk the catalogue (sync.templates_every).';
COMMENT ON COLUMN esim.sync_runs.templates_changed IS 'Templates inserted, changed, removed or back in this pass; NULL: not walked.';

-- 2. The change feed: one row per package or template a pass changed, written set-wise by the
--    pass's apply transaction (store/change_feed_sql.h), so a consumer can resume after the last
--    change_id it handled. change_id comes from a sequence inside that transaction. Sequences are
--    not transactional, so in general a lower number may commit after a higher one and a reader
--    could step past it; here only the holder of the writer lock applies passes (the apply checks
--    it still holds it), one transaction at a time, and the next holder starts after the previous
--    one's COMMIT: numbers are handed out in commit order, and a consumer that has seen change_id
--    N has seen every committed change below N. (A rolled-back pass leaves a gap: never rely on
--    the numbers being contiguous.)
CREATE TABLE esim.change_events (
    change_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint NOT NULL,
    changed_at   timestamptz NOT NULL,
    entity       text NOT NULL CHECK (entity IN ('package', 'template')),
    entity_id    text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('inserted', 'status_changed', 'field_changed', 'removed', 'returned')),
    old_status   text,
    new_status   text,
    old_template bigint,
    new_template bigint,
    fields       text[] NOT NULL DEFAULT '{}'
);
-- No index but the cursor's: each costs every event its entry, and a first load writes one
-- event per package (docs/performance.md).
COMMENT ON TABLE esim.change_events IS 'The change feed: one row per package or template a pass inserted, changed, removed or brought back, in commit order (change_id). Read it with esim.changes_since(after, max); NOTIFY esim_changes carries the run id after each pass that wrote some. From migration 0011 on.';
COMMENT ON COLUMN esim.change_events.change_id IS 'Monotonic cursor in commit order (gaps possible): resume with changes_since(last change_id handled).';
COMMENT ON COLUMN esim.change_events.run_id IS 'The sync pass (esim.sync_runs.id) that made the change.';
COMMENT ON COLUMN esim.change_events.changed_at IS 'Start time of that pass (the time stamped on the change in the mirror).';
COMMENT ON COLUMN esim.change_events.entity IS 'package (esim.packages) or template (esim.package_templates).';
COMMENT ON COLUMN esim.change_events.entity_id IS 'Package id, or template id as text.';
COMMENT ON COLUMN esim.change_events.kind IS 'inserted (first sighting), status_changed, field_changed (status the same), removed (no longer listed), returned (listed again after removal).';
COMMENT ON COLUMN esim.change_events.old_status IS 'Status before; NULL for inserted and returned.';
COMMENT ON COLUMN esim.change_events.new_status IS 'Status after; NULL for removed.';
COMMENT ON COLUMN esim.change_events.old_template IS 'For a package: its package_template before (NULL for inserted and returned).';
COMMENT ON COLUMN esim.change_events.new_template IS 'For a package: its package_template after (NULL for removed).';
COMMENT ON COLUMN esim.change_events.fields IS 'For status_changed and field_changed: the fields that changed (typed columns by name, other API keys as raw.<key>); esim.package_changes has the values.';

-- SECURITY INVOKER (the default): it reads with the caller's rights, so it gives esim_reader
-- nothing that SELECT on esim.change_events does not; no search_path games are possible.
CREATE FUNCTION esim.changes_since(after bigint, max integer DEFAULT 1000)
RETURNS TABLE (change_id bigint, run_id bigint, changed_at timestamptz, entity text, entity_id text, kind text,
               old_status text, new_status text, old_template bigint, new_template bigint, fields text[])
LANGUAGE sql STABLE AS $$
SELECT e.change_id, e.run_id, e.changed_at, e.entity, e.entity_id, e.kind, e.old_status, e.new_status,
       e.old_template, e.new_template, e.fields
  FROM esim.change_events e
 WHERE e.change_id > $1
 ORDER BY e.change_id
 LIMIT $2
$$;
COMMENT ON FUNCTION esim.changes_since(bigint, integer) IS 'Up to max change events after the cursor after (0: from the start), in commit order. A consumer stores the last change_id it handled and asks again from there; LISTEN esim_changes wakes it after each pass that changed something.';

-- 3. The stock per plan and status at the end of each UTC day, maintained by each pass from the
--    change events it writes (+1 to the new plan and status, -1 to the old), so "the active base
--    per day per plan" reads a few rows per day instead of an as-of scan per day. A row exists for
--    the days on which the stock changed; esim.plan_stock_by_day fills the days between.
CREATE TABLE esim.plan_stock_daily (
    day              date NOT NULL,
    package_template bigint,
    status           text NOT NULL,
    delta            bigint NOT NULL,
    packages         bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (package_template, status, day)
);
COMMENT ON TABLE esim.plan_stock_daily IS 'Listed packages per plan and status at the end of each UTC day on which that number changed, kept by each pass. Rows before migration 0011 are derived from the status audit with each package''s plan as of the upgrade.';
COMMENT ON COLUMN esim.plan_stock_daily.day IS 'UTC day of the passes that changed the stock.';
COMMENT ON COLUMN esim.plan_stock_daily.package_template IS 'Template (plan) id; NULL for packages without one.';
COMMENT ON COLUMN esim.plan_stock_daily.status IS 'Package status.';
COMMENT ON COLUMN esim.plan_stock_daily.delta IS 'Net change of the stock that day.';
COMMENT ON COLUMN esim.plan_stock_daily.packages IS 'Listed packages of this plan and status at the end of the day.';

-- Rebuilt from the status audit (complete since the first pass): at this migration, and by an
-- operator after restoring the history from elsewhere. A package's plan is taken as it is now,
-- so a plan changed earlier counts under the new one throughout (the passes themselves count
-- each change under the plan of its time). Not for esim_reader (it writes).
CREATE FUNCTION esim.rebuild_plan_stock() RETURNS bigint
LANGUAGE sql AS $$
DELETE FROM esim.plan_stock_daily;
INSERT INTO esim.plan_stock_daily (day, package_template, status, delta, packages)
SELECT day, package_template, status, delta,
       sum(delta) OVER (PARTITION BY package_template, status ORDER BY day)
  FROM (SELECT (h.changed_at AT TIME ZONE 'UTC')::date AS day, p.package_template, d.status, sum(d.delta) AS delta
          FROM esim.package_status_history h
          JOIN esim.packages p ON p.id = h.package_id
         CROSS JOIN LATERAL (VALUES (h.new_status, 1), (h.old_status, -1)) AS d(status, delta)
         WHERE d.status IS NOT NULL
         GROUP BY 1, 2, 3) t;
SELECT count(*) FROM esim.plan_stock_daily;
$$;
REVOKE EXECUTE ON FUNCTION esim.rebuild_plan_stock() FROM PUBLIC;
COMMENT ON FUNCTION esim.rebuild_plan_stock() IS 'Rebuilds esim.plan_stock_daily from the status audit, each package under its current plan; returns the rows written. Run by migration 0011; for operators only (the passes keep the table up to date).';
SELECT esim.rebuild_plan_stock();

-- 4. Plans by name. The catalogue, and the templates packages were seen with that it does not
--    hold (flagged, never invented: their name is NULL and plan_name says so).
CREATE VIEW esim.plans AS
SELECT coalesce(t.id, r.package_template) AS package_template,
       coalesce(t.name, 'template ' || r.package_template || ' (not in catalogue)') AS plan_name,
       t.name, t.status, t.raw,
       t.id IS NOT NULL AND t.removed_at IS NULL AS in_catalogue,
       r.package_template IS NOT NULL AS referenced,
       t.removed_at
  FROM esim.package_templates t
  FULL JOIN (SELECT DISTINCT package_template FROM esim.plan_stock_daily WHERE package_template IS NOT NULL) r
    ON r.package_template = t.id;
COMMENT ON VIEW esim.plans IS 'One row per plan: every template the catalogue listed, and every template packages were seen with. in_catalogue false: referenced by packages but not (or no longer) listed by GET /package-templates.';
COMMENT ON COLUMN esim.plans.package_template IS 'Template id (packages.package_template).';
COMMENT ON COLUMN esim.plans.plan_name IS 'The catalogue''s name, else "template <id> (not in catalogue)": unique, for dashboards'' plan pickers.';
COMMENT ON COLUMN esim.plans.name IS 'The catalogue''s name; NULL when the catalogue never listed it.';
COMMENT ON COLUMN esim.plans.status IS 'The catalogue''s status (Active, Not Active, De-activated), as sent.';
COMMENT ON COLUMN esim.plans.raw IS 'The catalogue''s template object as sent.';
COMMENT ON COLUMN esim.plans.in_catalogue IS 'Listed by the catalogue now.';
COMMENT ON COLUMN esim.plans.referenced IS 'Packages were seen with this template.';
COMMENT ON COLUMN esim.plans.removed_at IS 'When the catalogue stopped listing it (proven); NULL while listed or never listed.';

-- The plan name of one template id, for the views below: the catalogue's name or the flag.
CREATE FUNCTION esim.plan_name(template bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT coalesce((SELECT t.name FROM esim.package_templates t WHERE t.id = $1),
                'template ' || $1 || ' (not in catalogue)')
$$;
COMMENT ON FUNCTION esim.plan_name(bigint) IS 'The name of a template (plan) id: the catalogue''s name, else "template <id> (not in catalogue)".';

CREATE VIEW esim.packages_with_plan AS
SELECT p.id AS package_id, p.sim, p.package_template,
       coalesce(t.name, 'template ' || p.package_template || ' (not in catalogue)') AS plan_name,
       t.id IS NOT NULL AND t.removed_at IS NULL AS plan_in_catalogue,
       p.status, p.created_date, p.activated_date, p.expiry_date, p.first_seen_at, p.updated_at, p.removed_at
  FROM esim.packages p
  LEFT JOIN esim.package_templates t ON t.id = p.package_template;
COMMENT ON VIEW esim.packages_with_plan IS 'Every package (removed ones too: filter removed_at IS NULL for the listed ones) with its plan''s name.';
COMMENT ON COLUMN esim.packages_with_plan.package_id IS 'The package.';
COMMENT ON COLUMN esim.packages_with_plan.sim IS 'ICCID.';
COMMENT ON COLUMN esim.packages_with_plan.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.packages_with_plan.plan_name IS 'The catalogue''s name of the plan, else "template <id> (not in catalogue)".';
COMMENT ON COLUMN esim.packages_with_plan.plan_in_catalogue IS 'The catalogue lists the plan now.';
COMMENT ON COLUMN esim.packages_with_plan.status IS 'Current (or last listed) status.';
COMMENT ON COLUMN esim.packages_with_plan.created_date IS 'API created_date.';
COMMENT ON COLUMN esim.packages_with_plan.activated_date IS 'API activated_date.';
COMMENT ON COLUMN esim.packages_with_plan.expiry_date IS 'API expiry_date.';
COMMENT ON COLUMN esim.packages_with_plan.first_seen_at IS 'When a pass first listed it.';
COMMENT ON COLUMN esim.packages_with_plan.updated_at IS 'When a pass last changed it.';
COMMENT ON COLUMN esim.packages_with_plan.removed_at IS 'When it stopped being listed; NULL while listed.';

-- 5. The weekly KPIs.
CREATE VIEW esim.active_by_plan AS
SELECT p.package_template, esim.plan_name(p.package_template) AS plan_name, count(*) AS active
  FROM esim.packages p
 WHERE p.removed_at IS NULL AND p.status = 'ACTIVE'
 GROUP BY p.package_template;
COMMENT ON VIEW esim.active_by_plan IS 'Listed ACTIVE packages now, per plan.';
COMMENT ON COLUMN esim.active_by_plan.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.active_by_plan.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.active_by_plan.active IS 'Listed ACTIVE packages.';

-- The median from a histogram of whole minutes to activation per plan and week: one parallel
-- hash aggregate over the packages and a few thousand rows after it, where percentile_cont over
-- a million intervals sorted them all (and per group again): 4.4 s against 1.2 s at 1M on a
-- loaded 2-core machine (docs/performance.md).
CREATE VIEW esim.activation_by_plan_week AS
WITH buckets AS (
    SELECT p.package_template, date_trunc('week', p.created_date AT TIME ZONE 'UTC')::date AS created_week,
           p.activated_date IS NOT NULL AS activated,
           CASE WHEN isfinite(p.activated_date)
                THEN floor(extract(epoch FROM p.activated_date - p.created_date) / 60) END AS minutes,
           count(*) AS n
      FROM esim.packages p
     WHERE p.created_date IS NOT NULL AND isfinite(p.created_date)
     GROUP BY 1, 2, 3, 4
), running AS (
    SELECT b.package_template, b.created_week, b.minutes,
           sum(b.n) OVER (PARTITION BY b.package_template, b.created_week ORDER BY b.minutes) AS upto,
           sum(b.n) OVER (PARTITION BY b.package_template, b.created_week) AS timed
      FROM buckets b
     WHERE b.minutes IS NOT NULL
)
SELECT g.package_template, esim.plan_name(g.package_template) AS plan_name, g.created_week, g.packages, g.activated,
       round(g.activated::numeric / g.packages, 4) AS activation_rate,
       make_interval(mins => m.median_minutes::integer) AS median_time_to_activation
  FROM (SELECT package_template, created_week, sum(n)::bigint AS packages,
               coalesce(sum(n) FILTER (WHERE activated), 0)::bigint AS activated
          FROM buckets GROUP BY 1, 2) g
  LEFT JOIN (SELECT package_template, created_week, min(minutes) FILTER (WHERE upto * 2 >= timed) AS median_minutes
               FROM running GROUP BY 1, 2) m
    ON m.package_template IS NOT DISTINCT FROM g.package_template AND m.created_week = g.created_week;
COMMENT ON VIEW esim.activation_by_plan_week IS 'Per plan and creation week (ISO week, Monday, UTC): packages created, how many were activated, the rate, and the median time from creation to activation (of the activated ones). Counts every package ever listed, removed ones too.';
COMMENT ON COLUMN esim.activation_by_plan_week.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.activation_by_plan_week.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.activation_by_plan_week.created_week IS 'Monday (UTC) of the week the packages were created (API created_date).';
COMMENT ON COLUMN esim.activation_by_plan_week.packages IS 'Packages created that week.';
COMMENT ON COLUMN esim.activation_by_plan_week.activated IS 'Of them, activated (activated_date set).';
COMMENT ON COLUMN esim.activation_by_plan_week.activation_rate IS 'activated / packages (0 to 1).';
COMMENT ON COLUMN esim.activation_by_plan_week.median_time_to_activation IS 'Median of activated_date - created_date over the activated ones, in whole minutes (the lower median: percentile_disc); NULL when none.';

-- Expired unused: never activated, and no longer activatable (TERMINATED, or past its expiry
-- or the end of its activation window, epoch ms in the SDK model's window_activation_end).
CREATE VIEW esim.packages_expired_unused AS
SELECT p.id AS package_id, p.sim, p.package_template,
       coalesce(t.name, 'template ' || p.package_template || ' (not in catalogue)') AS plan_name, p.status,
       p.created_date, p.expiry_date, w.window_end AS activation_window_end, p.removed_at
  FROM esim.packages p
  LEFT JOIN esim.package_templates t ON t.id = p.package_template
 CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(p.raw -> 'window_activation_end') = 'number'
                                  AND (p.raw ->> 'window_activation_end')::numeric BETWEEN 0 AND 9007199254740
                                 THEN 'epoch'::timestamptz + (p.raw ->> 'window_activation_end')::numeric
                                                             * interval '1 millisecond' END AS window_end) w
 WHERE p.activated_date IS NULL
   AND (p.status = 'TERMINATED' OR p.expiry_date <= now() OR w.window_end <= now());
COMMENT ON VIEW esim.packages_expired_unused IS 'Packages that were never activated and can no longer be: TERMINATED, past expiry_date, or past window_activation_end, while activated_date is NULL. Removed ones included (removed_at).';
COMMENT ON COLUMN esim.packages_expired_unused.package_id IS 'The package.';
COMMENT ON COLUMN esim.packages_expired_unused.sim IS 'ICCID.';
COMMENT ON COLUMN esim.packages_expired_unused.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.packages_expired_unused.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.packages_expired_unused.status IS 'Current (or last listed) status.';
COMMENT ON COLUMN esim.packages_expired_unused.created_date IS 'API created_date.';
COMMENT ON COLUMN esim.packages_expired_unused.expiry_date IS 'API expiry_date, if any.';
COMMENT ON COLUMN esim.packages_expired_unused.activation_window_end IS 'API window_activation_end, if sent.';
COMMENT ON COLUMN esim.packages_expired_unused.removed_at IS 'When it stopped being listed; NULL while listed.';
CREATE INDEX packages_never_activated_idx ON esim.packages (package_template) WHERE activated_date IS NULL;

CREATE FUNCTION esim.expiring_by_plan(days integer DEFAULT 7)
RETURNS TABLE (package_template bigint, plan_name text, expiring bigint, first_expiry timestamptz)
LANGUAGE sql STABLE AS $$
SELECT p.package_template, esim.plan_name(p.package_template), count(*), min(p.expiry_date)
  FROM esim.packages p
 WHERE p.removed_at IS NULL AND p.status = 'ACTIVE'
   AND p.expiry_date > now() AND p.expiry_date <= now() + make_interval(days => $1)
 GROUP BY p.package_template
$$;
COMMENT ON FUNCTION esim.expiring_by_plan(integer) IS 'Listed ACTIVE packages expiring within the next days days (from now), per plan, with the first expiry.';

CREATE VIEW esim.plan_stock_by_day AS
WITH bounds AS (
    SELECT min(day) AS first_day FROM esim.plan_stock_daily
), series AS (
    SELECT DISTINCT package_template, status FROM esim.plan_stock_daily
), days AS (
    SELECT g::date AS day
      FROM bounds, generate_series(bounds.first_day::timestamp, (now() AT TIME ZONE 'UTC')::date::timestamp,
                                   interval '1 day') g
)
SELECT days.day, s.package_template, esim.plan_name(s.package_template) AS plan_name, s.status,
       sum(coalesce(d.delta, 0)) OVER (PARTITION BY s.package_template, s.status ORDER BY days.day)::bigint AS packages
  FROM days
 CROSS JOIN series s
  LEFT JOIN esim.plan_stock_daily d
    ON d.day = days.day AND d.package_template IS NOT DISTINCT FROM s.package_template AND d.status = s.status;
COMMENT ON VIEW esim.plan_stock_by_day IS 'Listed packages per UTC day, plan and status (at the end of the day; today: as of now), every day from the first on record, from esim.plan_stock_daily. WHERE status = ''ACTIVE'' is the active base per day per plan.';
COMMENT ON COLUMN esim.plan_stock_by_day.day IS 'UTC day.';
COMMENT ON COLUMN esim.plan_stock_by_day.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.plan_stock_by_day.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.plan_stock_by_day.status IS 'Package status.';
COMMENT ON COLUMN esim.plan_stock_by_day.packages IS 'Listed packages of the plan with that status at the end of the day.';

CREATE VIEW esim.active_base_daily AS
SELECT day, package_template, plan_name, packages AS active FROM esim.plan_stock_by_day WHERE status = 'ACTIVE';
COMMENT ON VIEW esim.active_base_daily IS 'The active base: listed ACTIVE packages per plan at the end of each UTC day.';
COMMENT ON COLUMN esim.active_base_daily.day IS 'UTC day.';
COMMENT ON COLUMN esim.active_base_daily.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.active_base_daily.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.active_base_daily.active IS 'Listed ACTIVE packages at the end of the day.';

-- Every removal on record (a package can go, come back and go again), from the status audit.
-- Partial indexes of the removals alone, by time and by UTC day (the day index gives the order
-- of "per day" questions, which the planner otherwise takes from the whole history's day index).
CREATE INDEX package_status_history_removed_at_idx ON esim.package_status_history (changed_at) WHERE new_status IS NULL;
CREATE INDEX package_status_history_removal_day_idx
    ON esim.package_status_history (((changed_at AT TIME ZONE 'UTC')::date), changed_at) WHERE new_status IS NULL;
CREATE VIEW esim.package_removals AS
SELECT h.package_id, h.changed_at AS removed_at, h.old_status AS last_status, p.package_template,
       coalesce(t.name, 'template ' || p.package_template || ' (not in catalogue)') AS plan_name, p.sim, h.run_id,
       (SELECT min(b.changed_at) FROM esim.package_status_history b
         WHERE b.package_id = h.package_id AND b.changed_at > h.changed_at AND b.old_status IS NULL) AS returned_at
  FROM esim.package_status_history h
  JOIN esim.packages p ON p.id = h.package_id
  LEFT JOIN esim.package_templates t ON t.id = p.package_template
 WHERE h.new_status IS NULL;
COMMENT ON VIEW esim.package_removals IS 'One row per time a package stopped being listed (proven gone): when, its last status and plan, and when it came back if it did.';
COMMENT ON COLUMN esim.package_removals.package_id IS 'The package.';
COMMENT ON COLUMN esim.package_removals.removed_at IS 'Start time of the pass that removed it.';
COMMENT ON COLUMN esim.package_removals.last_status IS 'Its status when last listed.';
COMMENT ON COLUMN esim.package_removals.package_template IS 'Template (plan) id (as now).';
COMMENT ON COLUMN esim.package_removals.plan_name IS 'Plan name.';
COMMENT ON COLUMN esim.package_removals.sim IS 'ICCID (as now).';
COMMENT ON COLUMN esim.package_removals.run_id IS 'The sync pass that removed it.';
COMMENT ON COLUMN esim.package_removals.returned_at IS 'When a pass listed it again; NULL: still gone.';

CREATE VIEW esim.repeat_packages_per_sim AS
SELECT p.sim, count(*) AS packages, count(*) FILTER (WHERE p.removed_at IS NULL) AS listed,
       count(DISTINCT p.package_template) AS plans, min(p.created_date) AS first_created,
       max(p.created_date) AS last_created
  FROM esim.packages p
 WHERE p.sim IS NOT NULL
 GROUP BY p.sim
HAVING count(*) > 1;
COMMENT ON VIEW esim.repeat_packages_per_sim IS 'SIMs that carried more than one package (repeat purchases or top-ups): how many, of how many plans, first and last created. Removed packages count.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.sim IS 'ICCID.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.packages IS 'Packages ever listed on the SIM.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.listed IS 'Of them, listed now.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.plans IS 'Distinct plans among them.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.first_created IS 'Earliest created_date.';
COMMENT ON COLUMN esim.repeat_packages_per_sim.last_created IS 'Latest created_date.';

-- 6. Readable by the BI role (default privileges cover tables made by the role that ran 0002;
--    granted here as well in case another role migrates now). Functions are executable by
--    PUBLIC and run with the caller's rights.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_reader') THEN
        GRANT SELECT ON esim.package_templates, esim.package_template_versions, esim.template_removal_candidates,
                        esim.change_events, esim.plan_stock_daily, esim.plans, esim.packages_with_plan,
                        esim.active_by_plan, esim.activation_by_plan_week, esim.packages_expired_unused,
                        esim.plan_stock_by_day, esim.active_base_daily, esim.package_removals,
                        esim.repeat_packages_per_sim
           TO esim_reader;
    END IF;
END
$$;
