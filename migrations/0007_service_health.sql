-- A pass that held its removals back (the mass-removal guard) is a warning state wherever
-- health is read: esim.sync_health gains removals_held, which `esim-sync status` shows.
CREATE OR REPLACE VIEW esim.sync_health AS
SELECT last_success.finished_at AS last_success_at,
       last_failure.finished_at AS last_failure_at,
       last_failure.error       AS last_failure_error,
       latest.status            AS latest_status,
       latest.interval_seconds,
       now() - last_success.finished_at AS staleness,
       last_success.finished_at IS NULL
         OR now() - last_success.finished_at > 3 * make_interval(secs => coalesce(latest.interval_seconds, 900))
         AS stale,
       coalesce(last_success.warning LIKE '%removal guard:%', false) AS removals_held
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT finished_at, warning FROM esim.sync_runs WHERE status = 'succeeded'
                      ORDER BY id DESC LIMIT 1) last_success ON true
  LEFT JOIN LATERAL (SELECT finished_at, error FROM esim.sync_runs WHERE status = 'failed'
                      ORDER BY id DESC LIMIT 1) last_failure ON true
  LEFT JOIN LATERAL (SELECT status, interval_seconds FROM esim.sync_runs
                      ORDER BY id DESC LIMIT 1) latest ON true;
COMMENT ON COLUMN esim.sync_health.removals_held IS 'True when the last succeeded pass held its removals back (the mass-removal guard): a warning, see its sync_runs.warning.';
