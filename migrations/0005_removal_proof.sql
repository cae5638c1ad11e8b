-- A package is marked removed only on proof (README "Failure behaviour").
--
-- 1. Live packages that a walk lacked and that no lookup could settle (no SIM, the server
--    ignores the sim filter, more candidates than sync.max_removal_lookups). Such a package is
--    removed only when the next applied walk lacks it too; being listed again clears its row.
CREATE TABLE esim.removal_candidates (
    package_id      text PRIMARY KEY,
    first_missed_at timestamptz NOT NULL,
    run_id          bigint NOT NULL
);
COMMENT ON TABLE esim.removal_candidates IS 'Live packages the last walk lacked that no lookup could settle: removed if the next applied walk lacks them too.';
COMMENT ON COLUMN esim.removal_candidates.package_id IS 'The live package (esim.packages.id) that the walk lacked.';
COMMENT ON COLUMN esim.removal_candidates.first_missed_at IS 'Start of the pass that first missed the package (missed in every applied pass since).';
COMMENT ON COLUMN esim.removal_candidates.run_id IS 'The esim.sync_runs row of the pass that first missed it.';

-- 2. What each pass did to prove its removals.
ALTER TABLE esim.sync_runs
    ADD COLUMN lookups integer NOT NULL DEFAULT 0,
    ADD COLUMN recovered_by_lookup integer NOT NULL DEFAULT 0,
    ADD COLUMN removed_by_lookup integer NOT NULL DEFAULT 0,
    ADD COLUMN removed_by_second_walk integer NOT NULL DEFAULT 0,
    ADD COLUMN removals_deferred integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN esim.sync_runs.lookups IS 'Requests made to check removal candidates by their SIM (GET /packages?sim=ICCID).';
COMMENT ON COLUMN esim.sync_runs.recovered_by_lookup IS 'Candidates a lookup found still listed: the walk had skipped them; applied as seen.';
COMMENT ON COLUMN esim.sync_runs.removed_by_lookup IS 'Removals proven by a lookup of the package''s SIM.';
COMMENT ON COLUMN esim.sync_runs.removed_by_second_walk IS 'Removals of packages that two applied walks in a row lacked and no lookup could settle.';
COMMENT ON COLUMN esim.sync_runs.removals_deferred IS 'Candidates not removed yet: missed for the first time and not provable by lookup (see esim.removal_candidates).';
COMMENT ON COLUMN esim.sync_runs.warning IS 'On a succeeded pass: why some removals were not applied (deferred to the next walk, or held by the mass-removal guard).';
