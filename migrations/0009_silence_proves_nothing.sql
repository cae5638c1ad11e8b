-- A server's silence proves nothing (README "Guarantees", ARCHITECTURE "What counts as proof").
--
-- 1. One account per mirror: the account the mirror holds, recorded at its first pass. A
--    configuration that names another account is refused before anything is written, unless
--    the operator says the mirror moved (`esim-sync once --adopt-account`).
CREATE TABLE esim.mirrored_account (
    one_row    boolean PRIMARY KEY DEFAULT true CHECK (one_row),
    api_host   text NOT NULL,
    api_path   text NOT NULL,
    user_id    text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE esim.mirrored_account IS 'The Betatel account this database mirrors (never its API key): one row.';
COMMENT ON COLUMN esim.mirrored_account.one_row IS 'Always true: the table holds one row.';
COMMENT ON COLUMN esim.mirrored_account.api_host IS 'Host of api.base_url (without port).';
COMMENT ON COLUMN esim.mirrored_account.api_path IS 'Path of api.base_url, e.g. /api/v1/esim.';
COMMENT ON COLUMN esim.mirrored_account.user_id IS 'api.user_id (x-user-id).';
COMMENT ON COLUMN esim.mirrored_account.since IS 'When the mirror first held (or adopted) this account.';

-- 2. What each pass proved, as columns rather than text to search.
ALTER TABLE esim.sync_runs
    ADD COLUMN removals_held boolean NOT NULL DEFAULT false,
    ADD COLUMN lookups_inconclusive integer NOT NULL DEFAULT 0,
    ADD COLUMN walk_complete boolean;
UPDATE esim.sync_runs SET removals_held = true WHERE status = 'succeeded' AND warning LIKE '%removal guard:%';
COMMENT ON COLUMN esim.sync_runs.removals_held IS 'The walk lost more live packages than sync.max_removed_fraction: nothing was removed or looked up (the mass-removal guard).';
COMMENT ON COLUMN esim.sync_runs.lookups_inconclusive IS 'Removal candidates whose lookup proved nothing: it failed, or a control (a package the walk had just seen) was not found in its batch.';
COMMENT ON COLUMN esim.sync_runs.walk_complete IS 'The walk ended at an empty page and saw no sign that the listing moved: only such walks count for the two-walk rule. NULL before 0.3.';
COMMENT ON COLUMN esim.sync_runs.lookups IS 'Requests made to settle removal candidates: GET /packages/{id} of each candidate and of its controls.';

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
       coalesce(last_success.removals_held, false) AS removals_held
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT finished_at, removals_held FROM esim.sync_runs WHERE status = 'succeeded'
                      ORDER BY id DESC LIMIT 1) last_success ON true
  LEFT JOIN LATERAL (SELECT finished_at, error FROM esim.sync_runs WHERE status = 'failed'
                      ORDER BY id DESC LIMIT 1) last_failure ON true
  LEFT JOIN LATERAL (SELECT status, interval_seconds FROM esim.sync_runs
                      ORDER BY id DESC LIMIT 1) latest ON true;
