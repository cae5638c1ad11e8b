#pragma once
// The SQL of one pass's apply step. Each statement is set-wise: it works on the whole pass at
// once inside PostgreSQL, so the cost does not depend on round trips per package.
// Parameters: $1 the pass's timestamp (timestamptz text), $2 the run id.

#include "store/history_sql.h"

namespace esim::apply_sql {

// Session-lifetime tables: filled by COPY in short transactions while the pager waits on the
// API (no transaction stays open across HTTP), emptied at the start of each pass. esim_staging
// holds the packages sent whole: those the mirror lacks or has with another fingerprint (the
// rest of the walk is in chunk_sql's tables), and the lookups' sightings. raw stays
// text in staging: only the packages that differ are ever parsed as jsonb. Dates stay epoch
// milliseconds as sent. fingerprint is esim-sync's hash of raw (store/fingerprint.h). anchor and
// position: a first load's place of each package in the chunk index (chunk_sql.h), else NULL.
// esim_gone holds the candidates that a lookup proved are no longer listed.
// esim_diff holds what the pass found different from the mirror, a few rows in the steady state:
//   seq NULL        a live package the staged listing lacks (a removal candidate), by id;
//   known false     a staged row of an id the mirror never had;
//   otherwise       a staged row of a removed package, or one whose fingerprint differs.
// A staged row in esim_diff carries its columns, so nothing after the diff reads staging again.
// esim_changed holds the staged rows of esim_diff, typed as the mirror types them.
// esim_diff is indexed by id: the removal proof asks, for packages of the mirror, whether the
// walk saw them (a live package is either seen or a candidate row of esim_diff).
inline constexpr const char* kCreateStaging = R"sql(
CREATE TEMP TABLE IF NOT EXISTS esim_staging (
    seq bigint NOT NULL, id text NOT NULL, sim text, package_template bigint, status text NOT NULL,
    created_ms bigint, activated_ms bigint, expiry_ms bigint, raw text NOT NULL, fingerprint uuid NOT NULL,
    stable_fingerprint uuid NOT NULL, data_remaining bigint, voice_remaining bigint, sms_remaining bigint,
    anchor text, position integer
);
CREATE TEMP TABLE IF NOT EXISTS esim_gone (id text PRIMARY KEY);
CREATE TEMP TABLE IF NOT EXISTS esim_diff (
    seq bigint, id text NOT NULL, known boolean NOT NULL, live boolean NOT NULL,
    sim text, package_template bigint, status text, created_ms bigint, activated_ms bigint, expiry_ms bigint, raw text,
    fingerprint uuid, stable_fingerprint uuid, data_remaining bigint, voice_remaining bigint, sms_remaining bigint
);
CREATE TEMP TABLE IF NOT EXISTS esim_changed (
    id text NOT NULL, sim text, package_template bigint, status text NOT NULL, created_date timestamptz,
    activated_date timestamptz, expiry_date timestamptz, raw jsonb NOT NULL, fingerprint uuid NOT NULL,
    stable_fingerprint uuid NOT NULL, data_remaining bigint, voice_remaining bigint, sms_remaining bigint
);
CREATE INDEX IF NOT EXISTS esim_diff_id_idx ON esim_diff (id);
TRUNCATE esim_staging, esim_gone, esim_diff, esim_changed;
)sql";

// Epoch milliseconds to timestamptz, exactly: whole days plus the milliseconds within the day,
// each multiplication exact in the double that interval arithmetic uses, and all of it in UTC
// (timestamp without time zone, then AT TIME ZONE 'UTC'), so neither the session's time zone
// nor daylight saving moves a date. Beyond what timestamptz holds (before 4714-11-24 BC, from
// 294277-01-01 on; util::epoch_ms_fits_timestamptz has the same bounds), an infinity: the
// "never expires" 9223372036854775807 is 'infinity'.
// The first branch is the usual one and the cheapest: one multiplication, exact while
// milliseconds x 1000 fits the 53 bits of a double (until about the year 2255).
#define ESIM_MS_TO_TIMESTAMPTZ(ms)                                                              \
  "CASE WHEN " ms " BETWEEN -9007199254740 AND 9007199254740 "                                    \
  "THEN 'epoch'::timestamptz + " ms " * interval '1 millisecond' "                                \
  "WHEN " ms " < -210866803200000 THEN '-infinity'::timestamptz "                                 \
  "WHEN " ms " >= 9224318016000000 THEN 'infinity'::timestamptz "                                 \
  "ELSE ('1970-01-01'::timestamp + (" ms " / 86400000) * interval '1 day' + (" ms " % 86400000) " \
  "* interval '1 millisecond') AT TIME ZONE 'UTC' END"

// The staged columns as the mirror types them.
#define ESIM_TYPED_COLUMNS                                                                       \
  "id, sim, package_template, status, " ESIM_MS_TO_TIMESTAMPTZ("created_ms") " AS created_date, " \
  ESIM_MS_TO_TIMESTAMPTZ("activated_ms") " AS activated_date, "                                   \
  ESIM_MS_TO_TIMESTAMPTZ("expiry_ms") " AS expiry_date"
// The columns after raw, in esim_changed's order: the fingerprints and the usage counters.
#define ESIM_AFTER_RAW "fingerprint, stable_fingerprint, data_remaining, voice_remaining, sms_remaining"

// A first load (an empty mirror) inserts the whole listing straight from staging: no diff, no
// copy in between. With duplicates (the listing shifted while paging) the later sighting of an
// id wins, being the fresher.
inline constexpr const char* kFirstLoadView =
    "CREATE OR REPLACE TEMP VIEW esim_first_load AS SELECT " ESIM_TYPED_COLUMNS
    ", raw::jsonb AS raw, " ESIM_AFTER_RAW " FROM esim_staging";
inline constexpr const char* kDedupedFirstLoadView =
    "CREATE OR REPLACE TEMP VIEW esim_first_load AS SELECT DISTINCT ON (id) " ESIM_TYPED_COLUMNS
    ", raw::jsonb AS raw, " ESIM_AFTER_RAW " FROM esim_staging ORDER BY id, seq DESC";

// The staged rows that differ, typed (and their JSON parsed) once for every statement after.
inline constexpr const char* kPickChanged =
    "INSERT INTO esim_changed SELECT " ESIM_TYPED_COLUMNS
    ", raw::jsonb, " ESIM_AFTER_RAW " FROM esim_diff WHERE seq IS NOT NULL";

#undef ESIM_AFTER_RAW
#undef ESIM_TYPED_COLUMNS
#undef ESIM_MS_TO_TIMESTAMPTZ

// The diff of the packages staged whole (those whose fingerprint the mirror lacks, and the
// lookups' sightings): new ids, returning ones, and different fingerprints go to esim_diff. The
// live packages the walk lacks come from the chunk index (chunk_sql::kCandidates). In the
// steady state both are a few rows, and every later step reads them instead of a million.
inline constexpr const char* kDiff = R"sql(
INSERT INTO esim_diff (seq, id, known, live, sim, package_template, status, created_ms, activated_ms, expiry_ms, raw,
                       fingerprint, stable_fingerprint, data_remaining, voice_remaining, sms_remaining)
SELECT s.seq, s.id, p.id IS NOT NULL, p.removed_at IS NULL, s.sim, s.package_template, s.status,
       s.created_ms, s.activated_ms, s.expiry_ms, s.raw, s.fingerprint, s.stable_fingerprint, s.data_remaining,
       s.voice_remaining, s.sms_remaining
  FROM esim_staging s LEFT JOIN esim.packages p ON p.id = s.id
 WHERE p.id IS NULL OR p.removed_at IS NOT NULL OR p.raw_fingerprint IS DISTINCT FROM s.fingerprint
)sql";

// What the diff implies, for the consistency checks, the removal proof and the mass-removal
// guard: removal candidates, distinct ids listed, candidates a lookup proved gone, and the
// other candidates that the previous applied walk lacked too. $1: the live packages.
// Every live package is either listed or a candidate, and every staged row of a new or removed
// id is in the diff: so the distinct ids listed are the live ones minus the candidates, plus the
// distinct new or returning ids of the diff.
inline constexpr const char* kDiffSummary = R"sql(
SELECT (SELECT count(*) FROM esim_diff WHERE seq IS NULL),
       $1::bigint - (SELECT count(*) FROM esim_diff WHERE seq IS NULL)
         + (SELECT count(DISTINCT id) FROM esim_diff WHERE seq IS NOT NULL AND NOT (known AND live)),
       (SELECT count(*) FROM esim_diff d JOIN esim_gone g ON g.id = d.id WHERE d.seq IS NULL),
       (SELECT count(*) FROM esim_diff d JOIN esim.removal_candidates r ON r.package_id = d.id
         WHERE d.seq IS NULL AND NOT EXISTS (SELECT 1 FROM esim_gone g WHERE g.id = d.id))
)sql";

inline constexpr const char* kClearDiff = "TRUNCATE esim_diff";

// Known packages whose text differs (their fingerprint of the whole text did), or that came back
// after removal. A package changed when it came back, or when its text without the volatile
// fields ($3, sync.volatile_fields) differs: the stable fingerprint (of that text) says so at
// once when it is the same; else the typed fields and the jsonb without those fields are
// compared (the same JSON written with other whitespace or key order is equal there).
// - changed: rewritten, the row it replaces kept as a version (valid from its updated_at, the
//   pass that made it current, to this pass), and a transition when the status moved (old to
//   new) or the package reappeared (NULL to new);
// - the others (only volatile fields, or only the way the JSON is written): updated in place,
//   raw, fingerprints and counters, with no version, no transition, and updated_at kept (it
//   is when the current version began, which packages_as_of reads).
// Either way a usage counter that moved is a row of the usage series and of its daily rollups
// (history_sql.h has their shape). All CTEs read the same snapshot, so `versions` still reads
// the old rows that `rewritten` replaces.
inline constexpr const char* kApplyChanges = R"sql(
WITH compared AS (
    SELECT c.*, p.status AS old_status, p.removed_at IS NOT NULL AS reappeared,
           p.sim AS old_sim, p.package_template AS old_package_template, p.created_date AS old_created_date,
           p.activated_date AS old_activated_date, p.expiry_date AS old_expiry_date, p.updated_at AS old_updated_at,
           p.data_usage_remaining AS old_data, p.voice_usage_remaining AS old_voice, p.sms_usage_remaining AS old_sms,
           p.removed_at IS NOT NULL
           OR (p.stable_fingerprint IS DISTINCT FROM c.stable_fingerprint
               AND (p.sim, p.package_template, p.status, p.created_date, p.activated_date, p.expiry_date, p.raw - $3::text[])
                   IS DISTINCT FROM
                   (c.sim, c.package_template, c.status, c.created_date, c.activated_date, c.expiry_date, c.raw - $3::text[]))
           AS differs
      FROM esim_changed c
      JOIN esim.packages p ON p.id = c.id
), changed AS (
    SELECT * FROM compared WHERE differs
), rewritten AS (
    UPDATE esim.packages p
       SET sim = c.sim, package_template = c.package_template, status = c.status,
           created_date = c.created_date, activated_date = c.activated_date,
           expiry_date = c.expiry_date, raw = c.raw, raw_fingerprint = c.fingerprint,
           stable_fingerprint = c.stable_fingerprint, data_usage_remaining = c.data_remaining,
           voice_usage_remaining = c.voice_remaining, sms_usage_remaining = c.sms_remaining,
           updated_at = $1::timestamptz, removed_at = NULL
      FROM changed c
     WHERE p.id = c.id
    RETURNING 1
), in_place AS (
    UPDATE esim.packages p
       SET raw = c.raw, raw_fingerprint = c.fingerprint, stable_fingerprint = c.stable_fingerprint,
           data_usage_remaining = c.data_remaining, voice_usage_remaining = c.voice_remaining,
           sms_usage_remaining = c.sms_remaining
      FROM compared c
     WHERE p.id = c.id AND NOT c.differs
), versions AS (
    INSERT INTO esim.package_versions (package_id, sim, package_template, status, created_date, activated_date,
                                       expiry_date, raw, listed, valid_from, valid_to, run_id)
    SELECT c.id, c.old_sim, c.old_package_template, c.old_status, c.old_created_date, c.old_activated_date,
           c.old_expiry_date, (SELECT p.raw FROM esim.packages p WHERE p.id = c.id), NOT c.reappeared,
           c.old_updated_at, $1::timestamptz, $2::bigint
      FROM changed c
), transitions AS (
    INSERT INTO esim.package_status_history (package_id, old_status, new_status, changed_at, run_id)
    SELECT c.id, CASE WHEN c.reappeared THEN NULL ELSE c.old_status END, c.status, $1::timestamptz, $2::bigint
      FROM changed c
     WHERE c.reappeared OR c.old_status IS DISTINCT FROM c.status
    RETURNING old_status
), used AS (
    SELECT id, package_template, data_remaining, voice_remaining, sms_remaining,
           greatest(old_data - data_remaining, 0) AS data_consumed,
           greatest(old_voice - voice_remaining, 0) AS voice_consumed,
           greatest(old_sms - sms_remaining, 0) AS sms_consumed
      FROM compared
     WHERE (old_data, old_voice, old_sms) IS DISTINCT FROM (data_remaining, voice_remaining, sms_remaining)
), )sql" ESIM_USAGE_WRITES R"sql(
SELECT (SELECT count(*) FROM rewritten),
       (SELECT count(*) FROM transitions WHERE old_status IS NOT NULL),
       (SELECT count(*) FROM series)
)sql";

// Packages never seen before: insert them with a first-sighting transition (NULL to status), and
// their counters, if they have any, as their first observation in the usage series.
// %s is the source: esim_changed (new ids among the rows that differ), or esim_first_load.
#define ESIM_APPLY_INSERTS(source, only_new)                                                     \
  "WITH added AS ("                                                                              \
  "    INSERT INTO esim.packages (id, sim, package_template, status, created_date, activated_date," \
  "                               expiry_date, raw, raw_fingerprint, stable_fingerprint,"        \
  "                               data_usage_remaining, voice_usage_remaining, sms_usage_remaining," \
  "                               first_seen_at, updated_at)"                                    \
  "    SELECT s.id, s.sim, s.package_template, s.status, s.created_date, s.activated_date,"       \
  "           s.expiry_date, s.raw, s.fingerprint, s.stable_fingerprint, s.data_remaining,"      \
  "           s.voice_remaining, s.sms_remaining, $1::timestamptz, $1::timestamptz"              \
  "      FROM " source " s " only_new                                                            \
  "    RETURNING id, status, package_template, data_usage_remaining, voice_usage_remaining,"     \
  "              sms_usage_remaining"                                                            \
  "), transitions AS ("                                                                          \
  "    INSERT INTO esim.package_status_history (package_id, old_status, new_status, changed_at, run_id)" \
  "    SELECT id, NULL, status, $1::timestamptz, $2::bigint FROM added"                          \
  "    RETURNING 1"                                                                              \
  "), used AS ("                                                                                 \
  "    SELECT id, package_template, data_usage_remaining AS data_remaining,"                     \
  "           voice_usage_remaining AS voice_remaining, sms_usage_remaining AS sms_remaining,"   \
  "           NULL::bigint AS data_consumed, NULL::bigint AS voice_consumed, NULL::bigint AS sms_consumed" \
  "      FROM added"                                                                             \
  "     WHERE coalesce(data_usage_remaining, voice_usage_remaining, sms_usage_remaining) IS NOT NULL" \
  "), " ESIM_USAGE_WRITES                                                                        \
  "SELECT count(*) FROM added"
inline constexpr const char* kApplyInserts =
    ESIM_APPLY_INSERTS("esim_changed", "WHERE NOT EXISTS (SELECT 1 FROM esim.packages p WHERE p.id = s.id)");
inline constexpr const char* kApplyFirstLoad = ESIM_APPLY_INSERTS("esim_first_load", "");
#undef ESIM_APPLY_INSERTS
#undef ESIM_USAGE_WRITES

// Live packages the pass did not list, and whose absence is proven: by a lookup of their SIM
// (esim_gone), or by a previous complete walk that lacked them too (esim.removal_candidates), when
// this walk is complete as well ($3).
// Mark them removed, keep the listed version they end (its updated_at is overwritten, so the old
// row is read first, in `proven`), and record a transition (status to NULL).
inline constexpr const char* kApplyRemovals = R"sql(
WITH proven AS (
    SELECT p.id, p.sim, p.package_template, p.status, p.created_date, p.activated_date, p.expiry_date, p.raw,
           p.updated_at, EXISTS (SELECT 1 FROM esim_gone g WHERE g.id = p.id) AS by_lookup
      FROM esim_diff d
      JOIN esim.packages p ON p.id = d.id
     WHERE d.seq IS NULL AND p.removed_at IS NULL
       AND (EXISTS (SELECT 1 FROM esim_gone g WHERE g.id = p.id)
            OR ($3::boolean AND EXISTS (SELECT 1 FROM esim.removal_candidates r WHERE r.package_id = p.id)))
), gone AS (
    UPDATE esim.packages p
       SET removed_at = $1::timestamptz, updated_at = $1::timestamptz
      FROM proven o
     WHERE p.id = o.id
    RETURNING o.*
), versions AS (
    INSERT INTO esim.package_versions (package_id, sim, package_template, status, created_date, activated_date,
                                       expiry_date, raw, listed, valid_from, valid_to, run_id)
    SELECT id, sim, package_template, status, created_date, activated_date, expiry_date, raw, true,
           updated_at, $1::timestamptz, $2::bigint
      FROM gone
), transitions AS (
    INSERT INTO esim.package_status_history (package_id, old_status, new_status, changed_at, run_id)
    SELECT id, status, NULL, $1::timestamptz, $2::bigint FROM gone
    RETURNING 1
)
SELECT count(*), count(*) FILTER (WHERE by_lookup) FROM gone
)sql";

// The two-walk rule's memory. A candidate listed again, or removed now, is forgotten; a live
// package this walk lacked is remembered with its first miss (kept if already there).
inline constexpr const char* kAnyRemembered = "SELECT EXISTS (SELECT 1 FROM esim.removal_candidates)";
inline constexpr const char* kForgetCandidates = R"sql(
DELETE FROM esim.removal_candidates r
 WHERE NOT EXISTS (SELECT 1 FROM esim_diff d JOIN esim.packages p ON p.id = d.id
                    WHERE d.seq IS NULL AND d.id = r.package_id AND p.removed_at IS NULL)
)sql";
inline constexpr const char* kRememberCandidates = R"sql(
INSERT INTO esim.removal_candidates (package_id, first_missed_at, run_id)
SELECT p.id, $1::timestamptz, $2::bigint
  FROM esim_diff d
  JOIN esim.packages p ON p.id = d.id
 WHERE d.seq IS NULL AND p.removed_at IS NULL
ON CONFLICT (package_id) DO NOTHING
)sql";

inline constexpr const char* kFinishRun = R"sql(
UPDATE esim.sync_runs
   SET status = 'succeeded', finished_at = clock_timestamp(), packages_seen = $2, inserted = $3,
       updated = $4, unchanged = $5, removed = $6, status_changes = $7, warning = $8,
       listing_attempts = $9, lookups = $10, recovered_by_lookup = $11, removed_by_lookup = $12,
       removed_by_second_walk = $13, removals_deferred = $14, removals_held = $15, lookups_inconclusive = $16,
       walk_complete = $17, usage_changes = $18, listing_bytes = $19, bytes_to_database = $20
 WHERE id = $1
)sql";

// A first load into empty tables builds the secondary indexes once, after the data, instead of
// maintaining them row by row (a large part of a million-package initial sync). The definitions
// are read from the catalog, so they always match the migrations.
inline constexpr const char* kEmptyMirror = R"sql(
SELECT NOT EXISTS (SELECT 1 FROM esim.packages), NOT EXISTS (SELECT 1 FROM esim.package_status_history)
)sql";
inline constexpr const char* kSecondaryIndexes = R"sql(
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
  FROM pg_index i
 WHERE i.indrelid IN ('esim.packages'::regclass, 'esim.package_status_history'::regclass,
                      'esim.listing_chunk_members'::regclass)
   AND NOT i.indisprimary AND NOT i.indisunique
)sql";

// The history's foreign keys, checked set-wise once per pass instead of by a trigger per row:
// every transition this pass wrote has its package. Anything else rolls the pass back. Found by
// the pass's time ($2; every transition of the pass carries it), through an index: by the run
// alone it was a scan of the whole history, which grows every day.
inline constexpr const char* kOrphanTransitions = R"sql(
SELECT count(*) FROM esim.package_status_history h
 WHERE h.changed_at = $2::timestamptz AND h.run_id = $1 AND NOT EXISTS (SELECT 1 FROM esim.packages p WHERE p.id = h.package_id)
)sql";

// Candidates proven gone that the previous walk had missed too: no longer counted as waiting.
inline constexpr const char* kGoneAndMissedBefore =
    "SELECT count(*) FROM esim_gone g JOIN esim.removal_candidates r ON r.package_id = g.id";

// The candidates themselves, as the mirror has them, each with a package the walk saw
// unchanged on the same SIM if there is one (a live package that is not in the diff was seen as
// the mirror has it); a bounded number: first those an earlier walk missed too (the two-walk
// rule would remove them unasked), then at random, so that over passes every candidate is
// asked, not the same first few.
inline constexpr const char* kRemovalCandidates = R"sql(
SELECT d.id, p.sim, p.status,
       (SELECT s.id FROM esim.packages s
         WHERE s.sim = p.sim AND s.id <> p.id AND s.removed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM esim_diff x WHERE x.id = s.id)
         LIMIT 1)
  FROM esim_diff d JOIN esim.packages p ON p.id = d.id
 WHERE d.seq IS NULL
 ORDER BY EXISTS (SELECT 1 FROM esim.removal_candidates r WHERE r.package_id = d.id) DESC, random()
 LIMIT $1
)sql";

// Packages this walk saw, of one status ($1) or of any (NULL), exactly as the mirror has them:
// live and not in the diff (neither a candidate nor changed, so the status the walk saw is the
// mirror's). The first few after an id ($3, a candidate picked at random, so that the controls
// are not the same few every pass), in id order: the primary key's order, which the planner
// follows even before autovacuum has analyzed a freshly loaded mirror (without it, a plan that
// hashes a million rows took a second per batch).
inline constexpr const char* kSeenPackages = R"sql(
SELECT s.id FROM esim.packages s
 WHERE s.id > $3 AND s.removed_at IS NULL AND ($1::text IS NULL OR s.status = $1)
   AND NOT EXISTS (SELECT 1 FROM esim_diff x WHERE x.id = s.id)
 ORDER BY s.id
 LIMIT $2
)sql";
// When the mirror holds no such package (every one the walk saw is new to it, as after
// `--adopt-account`): packages the walk saw for the first time.
inline constexpr const char* kSeenNewPackages = R"sql(
SELECT DISTINCT id FROM esim_diff WHERE seq IS NOT NULL AND NOT known AND ($1::text IS NULL OR status = $1) LIMIT $2
)sql";

// Planner statistics for the session's tables (temporary tables get no autovacuum).
inline constexpr const char* kAnalyzeStaging = "ANALYZE esim_staging";
inline constexpr const char* kAnalyzeChanged = "ANALYZE esim_changed";

// Whether this session holds the writer lock (a bigint advisory lock shows in pg_locks as its
// high and low 32 bits, with objsubid 1).
inline constexpr const char* kHoldsWriterLock = R"sql(
SELECT EXISTS (SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
                  AND (classid::bigint << 32 | objid::bigint) = $1)
)sql";

}  // namespace esim::apply_sql
