-- Every change on record (issue 12): whole-row versions of each package, what the mirror held
-- at any instant, daily stock per status, and field changes made readable. Adds objects only
-- (and redefines the packages_expiring view): every existing row stays as it is.

-- 1. Superseded versions. The current version of a package is its esim.packages row (valid from
--    its updated_at); each pass that rewrites, removes or brings back a package first copies
--    the row it replaces here, in the same statement. A pass that changes nothing writes none.
--    No foreign keys, like the history (migration 0004): esim-sync is the only writer and copies
--    the rows from esim.packages itself.
CREATE TABLE esim.package_versions (
    package_id       text NOT NULL,
    sim              text,
    package_template bigint,
    status           text NOT NULL,
    created_date     timestamptz,
    activated_date   timestamptz,
    expiry_date      timestamptz,
    raw              jsonb NOT NULL,
    listed           boolean NOT NULL,
    valid_from       timestamptz NOT NULL,
    valid_to         timestamptz NOT NULL,
    run_id           bigint NOT NULL
);
COMMENT ON TABLE esim.package_versions IS 'Superseded versions of each package, one row per change a pass made (the current version is the esim.packages row). Kept from migration 0006 on.';
COMMENT ON COLUMN esim.package_versions.package_id IS 'The package (esim.packages.id).';
COMMENT ON COLUMN esim.package_versions.sim IS 'ICCID during this version.';
COMMENT ON COLUMN esim.package_versions.package_template IS 'Template (plan) id during this version.';
COMMENT ON COLUMN esim.package_versions.status IS 'Status during this version (for a version with listed false: the last status seen).';
COMMENT ON COLUMN esim.package_versions.created_date IS 'API created_date during this version.';
COMMENT ON COLUMN esim.package_versions.activated_date IS 'API activated_date during this version.';
COMMENT ON COLUMN esim.package_versions.expiry_date IS 'API expiry_date during this version (a top-up or extension supersedes it).';
COMMENT ON COLUMN esim.package_versions.raw IS 'The package object as the API sent it during this version.';
COMMENT ON COLUMN esim.package_versions.listed IS 'False for a version in which the package was no longer listed (removed), until it came back.';
COMMENT ON COLUMN esim.package_versions.valid_from IS 'Start time of the pass from which this version was current.';
COMMENT ON COLUMN esim.package_versions.valid_to IS 'Start time of the pass that superseded it (exclusive).';
COMMENT ON COLUMN esim.package_versions.run_id IS 'The esim.sync_runs row of the pass that superseded it.';

-- Per package in time order (what one package looked like; the successor of a version), and
-- by instant for packages_as_of: a GiST index over the validity range finds the versions
-- current at one instant without reading every version superseded since.
CREATE INDEX package_versions_package_idx ON esim.package_versions (package_id, valid_from);
CREATE INDEX package_versions_valid_idx ON esim.package_versions USING gist (tstzrange(valid_from, valid_to));
CREATE INDEX package_versions_valid_to_idx ON esim.package_versions (valid_to);

-- 2. What the mirror held at an instant. Change times are pass start times, so this is the
--    state after the last pass that started at or before `at`. A single SQL SELECT, STABLE:
--    the planner inlines it, so filters on its result reach the indexes.
CREATE FUNCTION esim.packages_as_of(at timestamptz)
RETURNS TABLE (id text, sim text, package_template bigint, status text, created_date timestamptz,
               activated_date timestamptz, expiry_date timestamptz, raw jsonb)
LANGUAGE sql STABLE AS $$
SELECT p.id, p.sim, p.package_template, p.status, p.created_date, p.activated_date, p.expiry_date, p.raw
  FROM esim.packages p
 WHERE p.removed_at IS NULL AND p.updated_at <= $1
UNION ALL
SELECT v.package_id, v.sim, v.package_template, v.status, v.created_date, v.activated_date, v.expiry_date, v.raw
  FROM esim.package_versions v
 WHERE v.listed AND tstzrange(v.valid_from, v.valid_to) @> $1
$$;
COMMENT ON FUNCTION esim.packages_as_of(timestamptz) IS 'The packages listed at an instant, as the mirror held them after the last pass that started at or before it. Exact from migration 0006 on; for earlier instants a package shows only from its last change before the upgrade.';

-- 3. Status intervals from the status audit (complete since the first pass, also before this
--    migration): each transition starts an interval of its new status that the next one ends.
CREATE VIEW esim.package_status_intervals AS
SELECT package_id, status, valid_from, valid_to
  FROM (SELECT package_id, new_status AS status, changed_at AS valid_from,
               lead(changed_at) OVER (PARTITION BY package_id ORDER BY changed_at, id) AS valid_to
          FROM esim.package_status_history) t
 WHERE status IS NOT NULL;
COMMENT ON VIEW esim.package_status_intervals IS 'One row per stretch of time a package was listed with one status; valid_to NULL while it lasts.';
COMMENT ON COLUMN esim.package_status_intervals.package_id IS 'The package.';
COMMENT ON COLUMN esim.package_status_intervals.status IS 'The status it had throughout.';
COMMENT ON COLUMN esim.package_status_intervals.valid_from IS 'Start of the pass that first saw it listed with this status.';
COMMENT ON COLUMN esim.package_status_intervals.valid_to IS 'Start of the pass that saw the status change or the package no longer listed; NULL: still so.';

-- 4. Daily stock. A transition old -> new takes one package from old and adds one to new, so
--    the packages per status at the end of a UTC day are the running sum of the transitions per
--    day: one pass over status_transitions_daily, no per-package window.
CREATE VIEW esim.status_counts_daily AS
WITH deltas AS (
    SELECT t.day, d.status, sum(d.delta) AS delta
      FROM esim.status_transitions_daily t
     CROSS JOIN LATERAL (VALUES (t.new_status, t.transitions), (t.old_status, -t.transitions)) AS d(status, delta)
     WHERE d.status IS NOT NULL
     GROUP BY 1, 2
), days AS (
    SELECT g::date AS day
      FROM (SELECT least((SELECT min(day) FROM deltas),
                         (SELECT (min(started_at) AT TIME ZONE 'UTC')::date FROM esim.sync_runs WHERE status = 'succeeded'))
                   AS first_day) f,
           generate_series(f.first_day::timestamp, (now() AT TIME ZONE 'UTC')::date::timestamp, interval '1 day') g
), running AS (
    SELECT days.day, s.status,
           sum(coalesce(deltas.delta, 0)) OVER (PARTITION BY s.status ORDER BY days.day) AS packages
      FROM days
     CROSS JOIN (SELECT DISTINCT status FROM deltas) s
      LEFT JOIN deltas ON deltas.day = days.day AND deltas.status = s.status
)
SELECT day, status, packages::bigint AS packages FROM running;
COMMENT ON VIEW esim.status_counts_daily IS 'Packages listed at the end of each UTC day (after the last pass that started before the next UTC midnight), per status, from the first pass''s day through today (today: as of now). UTC whatever the session time zone.';
COMMENT ON COLUMN esim.status_counts_daily.day IS 'UTC day.';
COMMENT ON COLUMN esim.status_counts_daily.status IS 'Package status (every status ever seen, 0 on days without any).';
COMMENT ON COLUMN esim.status_counts_daily.packages IS 'Packages listed with that status at the end of the day.';

-- 5. Field changes, one row per changed field. A version's successor is the next version of the
--    package (valid_from = its valid_to) or else the current row. Times are rendered as ISO 8601
--    in UTC so values read the same in every session time zone (cast back with ::timestamptz).
CREATE FUNCTION esim.utc_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN isfinite(t) THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE t::text END
$$;
COMMENT ON FUNCTION esim.utc_text(timestamptz) IS 'A timestamptz as ISO 8601 text in UTC, to the millisecond (infinity as such), whatever the session time zone.';

CREATE VIEW esim.package_changes AS
SELECT v.package_id, f.field, f.old_value, f.new_value, v.valid_to AS changed_at, v.run_id
  FROM esim.package_versions v
  LEFT JOIN esim.package_versions n ON n.package_id = v.package_id AND n.valid_from = v.valid_to
  LEFT JOIN esim.packages p ON n.package_id IS NULL AND p.id = v.package_id
 CROSS JOIN LATERAL (
    SELECT CASE WHEN n.package_id IS NULL THEN p.sim ELSE n.sim END AS sim,
           CASE WHEN n.package_id IS NULL THEN p.package_template ELSE n.package_template END AS package_template,
           CASE WHEN n.package_id IS NULL THEN p.status ELSE n.status END AS status,
           CASE WHEN n.package_id IS NULL THEN p.created_date ELSE n.created_date END AS created_date,
           CASE WHEN n.package_id IS NULL THEN p.activated_date ELSE n.activated_date END AS activated_date,
           CASE WHEN n.package_id IS NULL THEN p.expiry_date ELSE n.expiry_date END AS expiry_date,
           CASE WHEN n.package_id IS NULL THEN p.raw ELSE n.raw END AS raw,
           CASE WHEN n.package_id IS NULL THEN p.removed_at IS NULL ELSE n.listed END AS listed
 ) s
 -- One branch per field, each with its own test, so a filter on field leaves the others out
 -- of the plan (a branch whose constant field cannot match is dropped by the planner).
 CROSS JOIN LATERAL (
    SELECT 'listed', v.listed::text, s.listed::text WHERE v.listed IS DISTINCT FROM s.listed
    UNION ALL
    SELECT 'status', v.status, s.status WHERE v.status IS DISTINCT FROM s.status
    UNION ALL
    SELECT 'sim', v.sim, s.sim WHERE v.sim IS DISTINCT FROM s.sim
    UNION ALL
    SELECT 'package_template', v.package_template::text, s.package_template::text
     WHERE v.package_template IS DISTINCT FROM s.package_template
    UNION ALL
    SELECT 'created_date', esim.utc_text(v.created_date), esim.utc_text(s.created_date)
     WHERE v.created_date IS DISTINCT FROM s.created_date
    UNION ALL
    SELECT 'activated_date', esim.utc_text(v.activated_date), esim.utc_text(s.activated_date)
     WHERE v.activated_date IS DISTINCT FROM s.activated_date
    UNION ALL
    SELECT 'expiry_date', esim.utc_text(v.expiry_date), esim.utc_text(s.expiry_date)
     WHERE v.expiry_date IS DISTINCT FROM s.expiry_date
    UNION ALL
    -- Other fields of the API object, top-level key by key (the typed ones are above).
    SELECT 'raw.' || coalesce(o.key, m.key), o.value::text, m.value::text
      FROM (SELECT * FROM jsonb_each(v.raw - '{id,sim,package_template,status,created_date,activated_date,expiry_date}'::text[])) o
      FULL JOIN (SELECT * FROM jsonb_each(s.raw - '{id,sim,package_template,status,created_date,activated_date,expiry_date}'::text[])) m
        ON m.key = o.key
     WHERE v.raw - '{id,sim,package_template,status,created_date,activated_date,expiry_date}'::text[]
           <> s.raw - '{id,sim,package_template,status,created_date,activated_date,expiry_date}'::text[]
       AND o.value IS DISTINCT FROM m.value
 ) AS f(field, old_value, new_value);
COMMENT ON VIEW esim.package_changes IS 'One row per field a pass saw change: WHERE field = ''expiry_date'' lists extensions. Fields: listed, status, sim, package_template, created_date, activated_date, expiry_date, and raw.<key> for the API object''s other top-level keys. From migration 0006 on.';
COMMENT ON COLUMN esim.package_changes.package_id IS 'The package.';
COMMENT ON COLUMN esim.package_changes.field IS 'Which field changed (listed false: no longer listed; true: listed again).';
COMMENT ON COLUMN esim.package_changes.old_value IS 'Value before, as text; times as ISO 8601 UTC (2026-11-26T23:19:33.074Z), JSON as JSON; NULL: absent.';
COMMENT ON COLUMN esim.package_changes.new_value IS 'Value after, in the same form.';
COMMENT ON COLUMN esim.package_changes.changed_at IS 'Start time of the pass that saw the change.';
COMMENT ON COLUMN esim.package_changes.run_id IS 'The sync pass (esim.sync_runs.id).';

-- 6. The expiring view listed packages already past expiry (the ACTIVE status lags behind the
--    expiry): only those still to expire now.
CREATE OR REPLACE VIEW esim.packages_expiring AS
SELECT id AS package_id, sim, package_template, activated_date, expiry_date,
       floor(extract(epoch FROM expiry_date - now()) / 86400)::integer AS days_to_expiry
  FROM esim.packages
 WHERE removed_at IS NULL AND status = 'ACTIVE' AND expiry_date > now();
COMMENT ON VIEW esim.packages_expiring IS 'Live ACTIVE packages not yet expired, with their expiry; filter on days_to_expiry or expiry_date.';
COMMENT ON COLUMN esim.packages_expiring.days_to_expiry IS 'Whole days left (0: expires within 24 hours).';
