-- Packages keep the JSON text the API sent (no longer a re-serialisation with sorted keys), and
-- esim-sync fingerprints that text itself while it pages, so a pass compares 16 bytes per
-- package without PostgreSQL hashing a million raw texts (README "Speed").
--
-- The old MD5 values fingerprint other text, so the first pass after this upgrade finds every
-- package's fingerprint different. A different fingerprint only means "look closer": the pass
-- then compares the typed fields and the jsonb, writes nothing but the new fingerprint where
-- they are equal, and records no history or version for it.
ALTER TABLE esim.packages RENAME COLUMN raw_md5 TO raw_fingerprint;
COMMENT ON COLUMN esim.packages.raw_fingerprint IS
  'XXH3-128 of the package JSON text as the API sent it, computed by esim-sync; differs => compare the fields and the jsonb.';
