-- Usage counters and a year of history (issue 22). Adds objects and columns, and gives one view
-- (status_counts_daily) a new body with the same columns and answers; every existing row stays.

-- 1. The current row keeps the latest usage counters (SDK 1.0.10) typed, and a second
--    fingerprint: of the package's text without the values of sync.volatile_fields. A pass
--    whose text differs only there updates the row in place (raw, counters, fingerprints): no
--    version, no transition, updated_at kept. A lower fillfactor leaves room on each page for
--    those updates (HOT: no index is written).
ALTER TABLE esim.packages
    ADD COLUMN data_usage_remaining bigint,
    ADD COLUMN voice_usage_remaining bigint,
    ADD COLUMN sms_usage_remaining bigint,
    ADD COLUMN stable_fingerprint uuid;
ALTER TABLE esim.packages SET (fillfactor = 80);
COMMENT ON COLUMN esim.packages.data_usage_remaining IS 'Data left, bytes (API data_usage_remaining; NULL unless sent as an integer within 64 bits). Kept current by every pass, without a version.';
COMMENT ON COLUMN esim.packages.voice_usage_remaining IS 'Voice left (API voice_usage_remaining). Kept current by every pass, without a version.';
COMMENT ON COLUMN esim.packages.sms_usage_remaining IS 'SMS left (API sms_usage_remaining). Kept current by every pass, without a version.';
COMMENT ON COLUMN esim.packages.stable_fingerprint IS 'XXH3-128 of the package JSON text without the values of sync.volatile_fields, computed by esim-sync; equal => only volatile fields changed. NULL until the package''s text first changes after migration 0010.';
COMMENT ON COLUMN esim.packages.updated_at IS 'Start time of the last sync pass that made a version of this row (a change outside sync.volatile_fields): the current version is valid from it.';
COMMENT ON COLUMN esim.packages.raw IS 'The package object exactly as the API last sent it, unknown fields included (volatile fields such as the usage counters at their latest values).';

-- The counters the rows hold already, typed as esim-sync reads them (an integer within 64 bits).
CREATE FUNCTION pg_temp.counter(v jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::text::numeric = trunc(v::text::numeric)
                 AND v::text::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
            THEN v::text::numeric::bigint END
$$;
UPDATE esim.packages
   SET data_usage_remaining = pg_temp.counter(raw -> 'data_usage_remaining'),
       voice_usage_remaining = pg_temp.counter(raw -> 'voice_usage_remaining'),
       sms_usage_remaining = pg_temp.counter(raw -> 'sms_usage_remaining')
 WHERE raw ?| array['data_usage_remaining', 'voice_usage_remaining', 'sms_usage_remaining'];

ALTER TABLE esim.sync_runs ADD COLUMN usage_changes integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN esim.sync_runs.usage_changes IS 'Listed packages whose usage counters changed (a row of esim.package_usage each); not counted in updated unless another field changed too.';
COMMENT ON COLUMN esim.sync_runs.updated IS 'Known packages rewritten with a version: some field outside sync.volatile_fields changed, or listed again after removal.';

-- 2. The usage series: a narrow row whenever a package's counters differ from the pass before
--    (and at its first sighting), partitioned by month (UTC). esim-sync makes the partitions of
--    the pass's month and the next before each pass (esim.prepare_history), and drops whole
--    months older than sync.usage_retention.
CREATE TABLE esim.package_usage (
    package_id      text NOT NULL,
    observed_at     timestamptz NOT NULL,
    data_remaining  bigint,
    voice_remaining bigint,
    sms_remaining   bigint
) PARTITION BY RANGE (observed_at);
COMMENT ON TABLE esim.package_usage IS 'Usage counters of each package whenever a pass saw them change (and at its first sighting); one partition per UTC month, whole months dropped after sync.usage_retention.';
COMMENT ON COLUMN esim.package_usage.package_id IS 'The package (esim.packages.id).';
COMMENT ON COLUMN esim.package_usage.observed_at IS 'Start time of the pass that saw these values (esim.sync_runs.started_at).';
COMMENT ON COLUMN esim.package_usage.data_remaining IS 'Data left, bytes (API data_usage_remaining).';
COMMENT ON COLUMN esim.package_usage.voice_remaining IS 'Voice left (API voice_usage_remaining).';
COMMENT ON COLUMN esim.package_usage.sms_remaining IS 'SMS left (API sms_usage_remaining).';
CREATE INDEX package_usage_package_idx ON esim.package_usage (package_id, observed_at);
-- A package's data runs out once (then stays 0 until topped up): these rows are few.
CREATE INDEX package_usage_depleted_idx ON esim.package_usage (package_id, observed_at) WHERE data_remaining <= 0;

-- 3. Daily rollups, added to by each pass from the rows it writes to the series, so that
--    dashboards read one row per package (or template) and day, never the series itself. The
--    per-package one is partitioned by month like the series: a pass's upserts of today's rows
--    probe this month's index, whose size does not grow with the history kept.
CREATE TABLE esim.package_usage_daily (
    package_id      text NOT NULL,
    day             date NOT NULL,
    data_remaining  bigint,
    voice_remaining bigint,
    sms_remaining   bigint,
    data_consumed   bigint NOT NULL DEFAULT 0,
    voice_consumed  bigint NOT NULL DEFAULT 0,
    sms_consumed    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (package_id, day)
) PARTITION BY RANGE (day);
COMMENT ON TABLE esim.package_usage_daily IS 'Per package and UTC day on which its counters changed (or it was first seen): what was left at the day''s last pass and what it used that day. No row: nothing changed that day (the last row''s remaining still holds). One partition per month, whole months dropped after sync.usage_retention.';
COMMENT ON COLUMN esim.package_usage_daily.package_id IS 'The package.';
COMMENT ON COLUMN esim.package_usage_daily.day IS 'UTC day.';
COMMENT ON COLUMN esim.package_usage_daily.data_remaining IS 'Data left after the day''s last pass that saw a change, bytes.';
COMMENT ON COLUMN esim.package_usage_daily.voice_remaining IS 'Voice left after the day''s last change.';
COMMENT ON COLUMN esim.package_usage_daily.sms_remaining IS 'SMS left after the day''s last change.';
COMMENT ON COLUMN esim.package_usage_daily.data_consumed IS 'Data used that day, bytes: the sum of the counter''s falls between passes (a rise, a top-up, counts as 0).';
COMMENT ON COLUMN esim.package_usage_daily.voice_consumed IS 'Voice used that day (falls of voice_remaining).';
COMMENT ON COLUMN esim.package_usage_daily.sms_consumed IS 'SMS used that day (falls of sms_remaining).';

CREATE TABLE esim.template_usage_daily (
    day              date NOT NULL,
    package_template bigint,
    data_consumed    bigint NOT NULL DEFAULT 0,
    voice_consumed   bigint NOT NULL DEFAULT 0,
    sms_consumed     bigint NOT NULL DEFAULT 0,
    UNIQUE NULLS NOT DISTINCT (day, package_template)
);
COMMENT ON TABLE esim.template_usage_daily IS 'Usage per template (plan) and UTC day: the sum of what its packages used (falls of their counters between passes). Days without use have no row.';
COMMENT ON COLUMN esim.template_usage_daily.day IS 'UTC day.';
COMMENT ON COLUMN esim.template_usage_daily.package_template IS 'Template (plan) id of the packages when they used it (NULL: packages without one).';
COMMENT ON COLUMN esim.template_usage_daily.data_consumed IS 'Data used, bytes.';
COMMENT ON COLUMN esim.template_usage_daily.voice_consumed IS 'Voice used.';
COMMENT ON COLUMN esim.template_usage_daily.sms_consumed IS 'SMS used.';

CREATE VIEW esim.packages_depleted_before_expiry AS
SELECT p.id AS package_id, p.sim, p.package_template, p.status, d.depleted_at, p.expiry_date,
       p.expiry_date - d.depleted_at AS time_left
  FROM (SELECT package_id, min(observed_at) AS depleted_at
          FROM esim.package_usage WHERE data_remaining <= 0 GROUP BY package_id) d
  JOIN esim.packages p ON p.id = d.package_id
 WHERE d.depleted_at < p.expiry_date;
COMMENT ON VIEW esim.packages_depleted_before_expiry IS 'Packages whose data ran out (data_remaining 0) before their expiry, within the usage series'' retention.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.package_id IS 'The package.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.sim IS 'ICCID.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.package_template IS 'Template (plan) id.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.status IS 'Current status.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.depleted_at IS 'Start of the first pass that saw data_remaining at 0 or below.';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.expiry_date IS 'Expiry (current).';
COMMENT ON COLUMN esim.packages_depleted_before_expiry.time_left IS 'Validity left unused when the data ran out.';

-- 4. Daily stock, rolled up: each pass adds its transitions to the stock of its UTC day (one row
--    per status it moved), so the 30-day stock reads 30 rows per status instead of summing every
--    transition since the first pass. Filled here from the whole status audit, once.
CREATE TABLE esim.status_stock_daily (
    day      date NOT NULL,
    status   text NOT NULL,
    packages bigint NOT NULL,
    PRIMARY KEY (day, status)
);
CREATE INDEX status_stock_daily_status_idx ON esim.status_stock_daily (status, day);
COMMENT ON TABLE esim.status_stock_daily IS 'Packages listed per status at the end of each UTC day on which a pass moved that status; days without a row carry the last one (esim.status_counts_daily fills them in).';
COMMENT ON COLUMN esim.status_stock_daily.day IS 'UTC day.';
COMMENT ON COLUMN esim.status_stock_daily.status IS 'Package status.';
COMMENT ON COLUMN esim.status_stock_daily.packages IS 'Packages listed with that status after the day''s last pass.';
INSERT INTO esim.status_stock_daily (day, status, packages)
SELECT day, status, sum(delta) OVER (PARTITION BY status ORDER BY day)
  FROM (SELECT t.day, d.status, sum(d.delta) AS delta
          FROM esim.status_transitions_daily t
         CROSS JOIN LATERAL (VALUES (t.new_status, t.transitions), (t.old_status, -t.transitions)) AS d(status, delta)
         WHERE d.status IS NOT NULL
         GROUP BY 1, 2) deltas;

CREATE OR REPLACE VIEW esim.status_counts_daily AS
WITH days AS (
    SELECT g::date AS day
      FROM (SELECT least((SELECT min(day) FROM esim.status_stock_daily),
                         (SELECT (min(started_at) AT TIME ZONE 'UTC')::date FROM esim.sync_runs WHERE status = 'succeeded'))
                   AS first_day) f,
           generate_series(f.first_day::timestamp, (now() AT TIME ZONE 'UTC')::date::timestamp, interval '1 day') g
), statuses AS (
    SELECT DISTINCT status FROM esim.status_stock_daily
)
SELECT days.day, s.status,
       coalesce((SELECT x.packages FROM esim.status_stock_daily x
                  WHERE x.status = s.status AND x.day <= days.day
                  ORDER BY x.day DESC LIMIT 1), 0)::bigint AS packages
  FROM days CROSS JOIN statuses s;

-- 5. Upkeep before each pass, under the writer lock: the partitions of the usage series and of
--    its per-package rollup for the pass's month and the next (made as tables, then attached:
--    attaching does not block readers), whole months of both older than the usage retention
--    dropped, and the run log's retention. Relative to the pass's time. A partition that cannot
--    be dropped now (a reader holds it) is left for a later pass. Returns the partitions dropped.
CREATE FUNCTION esim.prepare_history(at timestamptz, usage_retention_days integer, run_retention_days integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    month date;
    part text;
    dropped text := '';
BEGIN
    FOREACH parent IN ARRAY array['package_usage', 'package_usage_daily'] LOOP
        FOR i IN 0..1 LOOP
            month := (date_trunc('month', at AT TIME ZONE 'UTC') + make_interval(months => i))::date;
            part := parent || '_' || to_char(month, 'YYYY_MM');
            IF to_regclass('esim.' || part) IS NULL THEN
                -- A day's row of the rollup is rewritten by every pass of that day: room on its page
                -- keeps those updates off the indexes (HOT).
                EXECUTE format('CREATE TABLE esim.%I (LIKE esim.%I INCLUDING DEFAULTS INCLUDING COMMENTS) WITH (fillfactor = %s)',
                               part, parent, CASE WHEN parent = 'package_usage_daily' THEN 50 ELSE 100 END);
                IF parent = 'package_usage' THEN  -- timestamptz: UTC months
                    EXECUTE format('ALTER TABLE esim.%I ATTACH PARTITION esim.%I FOR VALUES FROM (%L) TO (%L)', parent,
                                   part, month::timestamp AT TIME ZONE 'UTC',
                                   (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
                ELSE  -- UTC days
                    EXECUTE format('ALTER TABLE esim.%I ATTACH PARTITION esim.%I FOR VALUES FROM (%L) TO (%L)', parent,
                                   part, month, (month + interval '1 month')::date);
                END IF;
                EXECUTE format('COMMENT ON TABLE esim.%I IS %L', part,
                               'esim.' || parent || ' of ' || to_char(month, 'YYYY-MM') || ' (UTC), made by esim-sync');
            END IF;
        END LOOP;
        IF usage_retention_days > 0 THEN
            FOR part IN
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = ('esim.' || parent)::regclass AND c.relname ~ ('^' || parent || '_[0-9]{4}_[0-9]{2}$')
                   AND (to_date(right(c.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
                       <= at - make_interval(days => usage_retention_days)
                 ORDER BY c.relname
            LOOP
                BEGIN
                    EXECUTE format('DROP TABLE esim.%I', part);
                    dropped := dropped || ' ' || part;
                EXCEPTION WHEN lock_not_available THEN
                    RAISE NOTICE 'esim-sync: % is in use; it is dropped at a later pass', part;
                END;
            END LOOP;
        END IF;
    END LOOP;
    IF run_retention_days > 0 THEN
        DELETE FROM esim.sync_runs
         WHERE started_at < at - make_interval(days => run_retention_days) AND status <> 'running';
    END IF;
    RETURN ltrim(dropped);
END
$$;
COMMENT ON FUNCTION esim.prepare_history(timestamptz, integer, integer) IS 'Run by esim-sync before each pass: makes the partitions of esim.package_usage and esim.package_usage_daily for the month of `at` and the next, drops whole months of both older than the usage retention, deletes sync_runs older than the run retention (0 days: kept for ever).';
SELECT esim.prepare_history(now(), 0, 0);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_reader') THEN
        GRANT SELECT ON esim.package_usage, esim.package_usage_daily, esim.template_usage_daily,
                        esim.status_stock_daily, esim.packages_depleted_before_expiry TO esim_reader;
    END IF;
END
$$;
