#pragma once
// The SQL that applies one walk of the plan catalogue, inside the pass's apply transaction.
// Parameters: $1 the pass's timestamp (timestamptz text), $2 the run id, and for kStage $3 the
// walk's templates as one JSON array of the objects as sent.
// Set-wise like the packages: a temporary table of the walk, then one statement per kind of
// change. Typed columns are read from the object: id (checked by the client), name and status as
// text when they are strings (the REST documentation's shape has no status).

namespace esim::template_sql {

// A few rows: DELETE, not TRUNCATE (which gives the table a new file every pass).
inline constexpr const char* kStage = R"sql(
CREATE TEMP TABLE IF NOT EXISTS esim_template_staging (id bigint PRIMARY KEY, name text, status text, raw jsonb NOT NULL);
DELETE FROM esim_template_staging;
)sql";
// The later sighting of an id listed twice wins (jsonb_array_elements keeps the array's order).
inline constexpr const char* kFillStaging = R"sql(
INSERT INTO esim_template_staging (id, name, status, raw)
SELECT DISTINCT ON ((t.value ->> 'id')::bigint) (t.value ->> 'id')::bigint,
       CASE WHEN jsonb_typeof(t.value -> 'name') = 'string' THEN t.value ->> 'name' END,
       CASE WHEN jsonb_typeof(t.value -> 'status') = 'string' THEN t.value ->> 'status' END,
       t.value
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(value, n)
 ORDER BY (t.value ->> 'id')::bigint, t.n DESC
)sql";

// Known templates that changed, or came back: keep the replaced row as a version, rewrite it,
// and record the event; then the new ones. Returns the events written.
inline constexpr const char* kApplyChanges = R"sql(
WITH changed AS (
    SELECT s.*, t.name AS old_name, t.status AS old_status, t.raw AS old_raw, t.updated_at AS old_updated_at,
           t.removed_at IS NOT NULL AS returned
      FROM esim_template_staging s
      JOIN esim.package_templates t ON t.id = s.id
     WHERE t.removed_at IS NOT NULL OR (t.name, t.status, t.raw) IS DISTINCT FROM (s.name, s.status, s.raw)
), rewritten AS (
    UPDATE esim.package_templates t
       SET name = c.name, status = c.status, raw = c.raw, updated_at = $1::timestamptz, removed_at = NULL
      FROM changed c
     WHERE t.id = c.id
), versions AS (
    INSERT INTO esim.package_template_versions (template_id, name, status, raw, listed, valid_from, valid_to, run_id)
    SELECT id, old_name, old_status, old_raw, NOT returned, old_updated_at, $1::timestamptz, $2::bigint FROM changed
), added AS (
    INSERT INTO esim.package_templates (id, name, status, raw, first_seen_at, updated_at)
    SELECT s.id, s.name, s.status, s.raw, $1::timestamptz, $1::timestamptz
      FROM esim_template_staging s
     WHERE NOT EXISTS (SELECT 1 FROM esim.package_templates t WHERE t.id = s.id)
    RETURNING id, status
), events AS (
    SELECT c.id,
           CASE WHEN c.returned THEN 'returned' WHEN c.old_status IS DISTINCT FROM c.status THEN 'status_changed'
                ELSE 'field_changed' END AS kind,
           CASE WHEN NOT c.returned THEN c.old_status END AS old_status, c.status AS new_status,
           CASE WHEN c.returned THEN '{}'::text[] ELSE ARRAY(
               SELECT f FROM (
                   SELECT 'name' WHERE c.old_name IS DISTINCT FROM c.name
                   UNION ALL SELECT 'status' WHERE c.old_status IS DISTINCT FROM c.status
                   UNION ALL
                   SELECT 'raw.' || k.key
                     FROM (SELECT jsonb_object_keys(c.old_raw) UNION SELECT jsonb_object_keys(c.raw)) k(key)
                    WHERE k.key NOT IN ('id', 'name', 'status') AND (c.old_raw -> k.key) IS DISTINCT FROM (c.raw -> k.key)
               ) x(f) ORDER BY f) END AS fields
      FROM changed c
    UNION ALL
    SELECT id, 'inserted', NULL, status, '{}'::text[] FROM added
), written AS (
    INSERT INTO esim.change_events (run_id, changed_at, entity, entity_id, kind, old_status, new_status, fields)
    SELECT $2::bigint, $1::timestamptz, 'template', id::text, kind, old_status, new_status, fields
      FROM events ORDER BY id
    RETURNING 1
)
SELECT count(*) FROM written
)sql";

// Removals: a live template this complete walk lacks that the previous complete walk lacked
// too (the two-walk rule; a walk alone proves nothing). Only called for a complete walk.
// Returns the events written.
inline constexpr const char* kApplyRemovals = R"sql(
WITH gone AS (
    UPDATE esim.package_templates t
       SET removed_at = $1::timestamptz, updated_at = $1::timestamptz
      FROM esim.template_removal_candidates r
     WHERE r.template_id = t.id AND t.removed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM esim_template_staging s WHERE s.id = t.id)
    RETURNING t.id
), old AS (
    SELECT t.* FROM esim.package_templates t JOIN gone g ON g.id = t.id
), versions AS (
    INSERT INTO esim.package_template_versions (template_id, name, status, raw, listed, valid_from, valid_to, run_id)
    SELECT id, name, status, raw, true, updated_at, $1::timestamptz, $2::bigint FROM old
), written AS (
    INSERT INTO esim.change_events (run_id, changed_at, entity, entity_id, kind, old_status, new_status)
    SELECT $2::bigint, $1::timestamptz, 'template', id::text, 'removed', status, NULL FROM old ORDER BY id
    RETURNING 1
)
SELECT count(*) FROM written
)sql";

// The two-walk rule's memory: forget what was listed again or removed; remember what this
// complete walk lacked (only for a complete walk).
inline constexpr const char* kForgetCandidates = R"sql(
DELETE FROM esim.template_removal_candidates r
 WHERE EXISTS (SELECT 1 FROM esim_template_staging s WHERE s.id = r.template_id)
    OR NOT EXISTS (SELECT 1 FROM esim.package_templates t WHERE t.id = r.template_id AND t.removed_at IS NULL)
)sql";
inline constexpr const char* kRememberCandidates = R"sql(
INSERT INTO esim.template_removal_candidates (template_id, first_missed_at, run_id)
SELECT t.id, $1::timestamptz, $2::bigint
  FROM esim.package_templates t
 WHERE t.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM esim_template_staging s WHERE s.id = t.id)
ON CONFLICT (template_id) DO NOTHING
)sql";

inline constexpr const char* kRecordOnRun =
    "UPDATE esim.sync_runs SET templates_seen = $2, templates_changed = $3 WHERE id = $1";

}  // namespace esim::template_sql
