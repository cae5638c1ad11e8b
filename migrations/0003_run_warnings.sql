-- A succeeded pass can still have something to say: removals withheld because the listing
-- moved while paging, or because the mass-removal guard stopped them.
ALTER TABLE esim.sync_runs ADD COLUMN warning text;
ALTER TABLE esim.sync_runs ADD COLUMN listing_attempts integer NOT NULL DEFAULT 1;
COMMENT ON COLUMN esim.sync_runs.warning IS 'On a succeeded pass: why no removals were applied (listing moved while paging, or the mass-removal guard).';
COMMENT ON COLUMN esim.sync_runs.listing_attempts IS 'How many times the pass paged through the listing (more than 1: it moved while paging).';
COMMENT ON COLUMN esim.sync_runs.error IS 'Why the pass failed (nothing was applied).';
