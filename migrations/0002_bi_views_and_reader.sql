-- For the people who read esim-sync's work in a BI tool: documented tables, views that answer
-- the usual dashboard questions, indexes that keep them fast, and a read-only role.

-- The configured interval of each pass, so esim.sync_health can judge staleness in SQL.
ALTER TABLE esim.sync_runs ADD COLUMN interval_seconds integer;

COMMENT ON SCHEMA esim IS 'esim-sync: a mirror of Betatel eSIM packages and the audit of their status changes.';

COMMENT ON COLUMN esim.packages.id IS 'Betatel package id, e.g. pkg_123456.';
COMMENT ON COLUMN esim.packages.sim IS 'ICCID of the SIM the package is on.';
COMMENT ON COLUMN esim.packages.package_template IS 'Package template (plan) id.';
COMMENT ON COLUMN esim.packages.status IS 'Status as the API sent it: NOT_ACTIVE, ACTIVE, SUSPENDED, TERMINATED (or a new one Betatel adds).';
COMMENT ON COLUMN esim.packages.created_date IS 'When Betatel created the package (API created_date).';
COMMENT ON COLUMN esim.packages.activated_date IS 'When the package was activated (API activated_date); NULL before activation.';
COMMENT ON COLUMN esim.packages.expiry_date IS 'When the package expires (API expiry_date); NULL before activation.';
COMMENT ON COLUMN esim.packages.first_seen_at IS 'Start time of the sync pass that first listed the package.';
COMMENT ON COLUMN esim.packages.updated_at IS 'Start time of the last sync pass that changed this row.';

COMMENT ON COLUMN esim.package_status_history.id IS 'Increasing id; orders the transitions.';
COMMENT ON COLUMN esim.package_status_history.package_id IS 'The package (esim.packages.id).';
COMMENT ON COLUMN esim.package_status_history.old_status IS 'Status before; NULL when the package was first seen or listed again after removal.';
COMMENT ON COLUMN esim.package_status_history.new_status IS 'Status after; NULL when the package stopped being listed.';
COMMENT ON COLUMN esim.package_status_history.changed_at IS 'Start time of the sync pass that saw the change.';
COMMENT ON COLUMN esim.package_status_history.run_id IS 'The sync pass (esim.sync_runs.id).';

COMMENT ON COLUMN esim.sync_runs.id IS 'Pass number.';
COMMENT ON COLUMN esim.sync_runs.started_at IS 'When the pass started; the time stamped on every change it made.';
COMMENT ON COLUMN esim.sync_runs.finished_at IS 'When the pass ended; NULL while running.';
COMMENT ON COLUMN esim.sync_runs.status IS 'running, succeeded, failed (nothing applied) or aborted.';
COMMENT ON COLUMN esim.sync_runs.packages_seen IS 'Distinct packages the API listed.';
COMMENT ON COLUMN esim.sync_runs.inserted IS 'Packages seen for the first time.';
COMMENT ON COLUMN esim.sync_runs.updated IS 'Known packages rewritten: some field changed, or listed again after removal.';
COMMENT ON COLUMN esim.sync_runs.unchanged IS 'Listed packages left untouched.';
COMMENT ON COLUMN esim.sync_runs.removed IS 'Packages no longer listed, marked removed.';
COMMENT ON COLUMN esim.sync_runs.status_changes IS 'Listed packages whose status moved.';
COMMENT ON COLUMN esim.sync_runs.error IS 'Why the pass failed; on a succeeded pass, why removals were skipped.';
COMMENT ON COLUMN esim.sync_runs.interval_seconds IS 'schedule.interval in force for this pass.';

CREATE VIEW esim.package_status_counts AS
SELECT status, count(*) AS packages
  FROM esim.packages
 WHERE removed_at IS NULL
 GROUP BY status;
COMMENT ON VIEW esim.package_status_counts IS 'Live packages (listed by the API) by status.';
COMMENT ON COLUMN esim.package_status_counts.status IS 'Package status.';
COMMENT ON COLUMN esim.package_status_counts.packages IS 'Live packages with that status.';

CREATE VIEW esim.status_transitions_daily AS
SELECT (changed_at AT TIME ZONE 'UTC')::date AS day, old_status, new_status, count(*) AS transitions
  FROM esim.package_status_history
 GROUP BY 1, 2, 3;
COMMENT ON VIEW esim.status_transitions_daily IS 'Status transitions per UTC day. old_status NULL: first seen or listed again; new_status NULL: no longer listed.';
COMMENT ON COLUMN esim.status_transitions_daily.day IS 'UTC day on which a sync pass saw the transitions.';
COMMENT ON COLUMN esim.status_transitions_daily.old_status IS 'Status before (NULL: new or listed again).';
COMMENT ON COLUMN esim.status_transitions_daily.new_status IS 'Status after (NULL: no longer listed).';
COMMENT ON COLUMN esim.status_transitions_daily.transitions IS 'How many packages made that transition that day.';

CREATE VIEW esim.package_lifecycle AS
SELECT p.id AS package_id, p.sim, p.package_template, p.status, p.first_seen_at,
       p.activated_date,
       min(h.changed_at) FILTER (WHERE h.new_status = 'ACTIVE')     AS first_seen_active_at,
       min(h.changed_at) FILTER (WHERE h.new_status = 'SUSPENDED')  AS first_seen_suspended_at,
       min(h.changed_at) FILTER (WHERE h.new_status = 'TERMINATED') AS first_seen_terminated_at,
       p.removed_at
  FROM esim.packages p
  LEFT JOIN esim.package_status_history h ON h.package_id = p.id
 GROUP BY p.id;
COMMENT ON VIEW esim.package_lifecycle IS 'One row per package: when sync passes first saw it in each status, derived from the history.';
COMMENT ON COLUMN esim.package_lifecycle.package_id IS 'The package.';
COMMENT ON COLUMN esim.package_lifecycle.sim IS 'ICCID.';
COMMENT ON COLUMN esim.package_lifecycle.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.package_lifecycle.status IS 'Current (or last known) status.';
COMMENT ON COLUMN esim.package_lifecycle.first_seen_at IS 'When a pass first listed it.';
COMMENT ON COLUMN esim.package_lifecycle.activated_date IS 'Activation time as Betatel reports it.';
COMMENT ON COLUMN esim.package_lifecycle.first_seen_active_at IS 'When a pass first saw it ACTIVE.';
COMMENT ON COLUMN esim.package_lifecycle.first_seen_suspended_at IS 'When a pass first saw it SUSPENDED.';
COMMENT ON COLUMN esim.package_lifecycle.first_seen_terminated_at IS 'When a pass first saw it TERMINATED.';
COMMENT ON COLUMN esim.package_lifecycle.removed_at IS 'When it stopped being listed; NULL while listed.';

CREATE VIEW esim.packages_expiring AS
SELECT id AS package_id, sim, package_template, activated_date, expiry_date,
       floor(extract(epoch FROM expiry_date - now()) / 86400)::integer AS days_to_expiry
  FROM esim.packages
 WHERE removed_at IS NULL AND status = 'ACTIVE' AND expiry_date IS NOT NULL;
COMMENT ON VIEW esim.packages_expiring IS 'Live ACTIVE packages with their expiry; filter on days_to_expiry or expiry_date.';
COMMENT ON COLUMN esim.packages_expiring.package_id IS 'The package.';
COMMENT ON COLUMN esim.packages_expiring.sim IS 'ICCID.';
COMMENT ON COLUMN esim.packages_expiring.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.packages_expiring.activated_date IS 'Activation time.';
COMMENT ON COLUMN esim.packages_expiring.expiry_date IS 'Expiry time.';
COMMENT ON COLUMN esim.packages_expiring.days_to_expiry IS 'Whole days left (negative: expired but still ACTIVE).';

CREATE VIEW esim.sync_health AS
SELECT last_success.finished_at AS last_success_at,
       last_failure.finished_at AS last_failure_at,
       last_failure.error       AS last_failure_error,
       latest.status            AS latest_status,
       latest.interval_seconds,
       now() - last_success.finished_at AS staleness,
       last_success.finished_at IS NULL
         OR now() - last_success.finished_at > 3 * make_interval(secs => coalesce(latest.interval_seconds, 900))
         AS stale
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT finished_at FROM esim.sync_runs WHERE status = 'succeeded'
                      ORDER BY id DESC LIMIT 1) last_success ON true
  LEFT JOIN LATERAL (SELECT finished_at, error FROM esim.sync_runs WHERE status = 'failed'
                      ORDER BY id DESC LIMIT 1) last_failure ON true
  LEFT JOIN LATERAL (SELECT status, interval_seconds FROM esim.sync_runs
                      ORDER BY id DESC LIMIT 1) latest ON true;
COMMENT ON VIEW esim.sync_health IS 'One row: is the mirror fresh? stale when no pass succeeded within three intervals.';
COMMENT ON COLUMN esim.sync_health.last_success_at IS 'End of the last succeeded pass.';
COMMENT ON COLUMN esim.sync_health.last_failure_at IS 'End of the last failed pass.';
COMMENT ON COLUMN esim.sync_health.last_failure_error IS 'Its error.';
COMMENT ON COLUMN esim.sync_health.latest_status IS 'Status of the most recent pass.';
COMMENT ON COLUMN esim.sync_health.interval_seconds IS 'Configured interval of the most recent pass.';
COMMENT ON COLUMN esim.sync_health.staleness IS 'Time since the last succeeded pass ended.';
COMMENT ON COLUMN esim.sync_health.stale IS 'True when no pass succeeded within three intervals (or ever).';

-- Indexes for the views and the usual ad-hoc questions (by SIM and by status exist already).
CREATE INDEX packages_expiry_idx ON esim.packages (expiry_date)
    WHERE removed_at IS NULL AND status = 'ACTIVE';
CREATE INDEX package_status_history_day_idx
    ON esim.package_status_history (((changed_at AT TIME ZONE 'UTC')::date));
CREATE INDEX sync_runs_status_idx ON esim.sync_runs (status, id);

-- The read-only role for BI tools: a NOLOGIN group that analysts' login roles join
-- (GRANT esim_reader TO metabase;). Created only when the migrating role may create roles;
-- otherwise README "For BI" has the snippet for an administrator.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_reader') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            CREATE ROLE esim_reader NOLOGIN;
        ELSE
            RAISE NOTICE 'esim-sync: role esim_reader not created (the migrating role may not create roles); see README "For BI"';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_reader') THEN
        GRANT USAGE ON SCHEMA esim TO esim_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA esim TO esim_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA esim GRANT SELECT ON TABLES TO esim_reader;
    END IF;
END
$$;
