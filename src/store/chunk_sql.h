#pragma once
// The SQL of the chunk index (migration 0012; ARCHITECTURE.md, "The chunk index"): what a pass
// stages instead of every package, how the diff finds the removal candidates from it, and how
// the apply keeps it true. Values always go in as parameters or COPY data.

namespace esim::chunk_sql {

// Session-lifetime tables, emptied at the start of each pass (with esim_staging):
//   esim_seen_chunks   every chunk of the walk: its first package's place in the walk (seq),
//                      digest and size, whether the mirror holds it (the client knows the
//                      stored digests), and whether it may be stored after this pass (not when
//                      it holds an id listed twice);
//   esim_members       the ids of the chunks the mirror lacks, by chunk and place: sightings,
//                      whole or not (the whole package is in esim_staging where it differs);
//   esim_member_batch  one batch's esim_members, asked about before they join the rest.
inline constexpr const char* kCreateStaging = R"sql(
CREATE TEMP TABLE IF NOT EXISTS esim_seen_chunks (
    first_seq bigint NOT NULL, digest uuid NOT NULL, size integer NOT NULL, known boolean NOT NULL,
    valid boolean NOT NULL DEFAULT true
);
CREATE TEMP TABLE IF NOT EXISTS esim_members (chunk_seq bigint NOT NULL, position integer NOT NULL, id text NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS esim_member_batch (chunk_seq bigint NOT NULL, position integer NOT NULL, id text NOT NULL);
TRUNCATE esim_seen_chunks, esim_members, esim_member_batch;
)sql";

// Built afresh (migration 0012's trigger asked for it): no chunk, every live package in none.
// The pass after it sends every id once and cuts the chunks. In a transaction of its own
// before the walk, under the writer lock; before and after it the index is true.
inline constexpr const char* kIndexOutdated = "SELECT rebuild FROM esim.listing_index";
inline constexpr const char* kRebuildIndex = R"sql(
TRUNCATE esim.listing_chunks, esim.listing_chunk_members;
INSERT INTO esim.listing_chunk_members (package_id) SELECT id FROM esim.packages WHERE removed_at IS NULL;
UPDATE esim.listing_index SET rebuild = false;
)sql";
// The apply's writes to esim.packages keep the index themselves: the trigger lets them be.
inline constexpr const char* kApplyingPass = "SET LOCAL esim.applying = 'on'";

// What the client needs before the walk: the stored digests (16 bytes each) and whether the
// mirror is empty (a first load sends every package whole without asking).
inline constexpr const char* kStoredDigests = "SELECT digest FROM esim.listing_chunks";
inline constexpr const char* kMirrorIsEmpty = "SELECT NOT EXISTS (SELECT 1 FROM esim.packages)";

// The mirror's fingerprints of one batch's members, live ones only (a removed package that
// is listed again is sent whole). A batch is a few thousand rows at most: a nested loop over
// the primary key, never a hash of the whole mirror (the planner has no statistics for the
// temporary table and once chose that, a second per batch).
inline constexpr const char* kMirrorFingerprints = R"sql(
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SELECT b.chunk_seq + b.position, p.raw_fingerprint
  FROM esim_member_batch b JOIN esim.packages p ON p.id = b.id
 WHERE p.removed_at IS NULL
)sql";
inline constexpr const char* kKeepMemberBatch =
    "INSERT INTO esim_members SELECT * FROM esim_member_batch; TRUNCATE esim_member_batch";

inline constexpr const char* kAnalyzeStaging = "ANALYZE esim_seen_chunks; ANALYZE esim_members";

// Every chunk the client took for stored must be: else the index and the client disagree, and
// nothing the pass concluded from it holds.
inline constexpr const char* kUnknownKnownChunks = R"sql(
SELECT count(*) FROM esim_seen_chunks s
 WHERE s.known AND NOT EXISTS (SELECT 1 FROM esim.listing_chunks c WHERE c.digest = s.digest)
)sql";

// The live packages the walk lacks: those of a stored chunk it did not list, and those in no
// stored chunk, unless their id was sent (esim_members) or staged whole (esim_staging: the
// lookups' sightings). Every live package has exactly one row of esim.listing_chunk_members,
// so this is the full join of the old diff without reading a million rows: the unseen chunks
// are found among some 60,000 digests, and their members through an index.
inline constexpr const char* kCandidates = R"sql(
INSERT INTO esim_diff (seq, id, known, live)
SELECT NULL, m.package_id, true, true
  FROM (SELECT m.package_id FROM esim.listing_chunk_members m
         WHERE m.digest IN (SELECT c.digest FROM esim.listing_chunks c
                             WHERE NOT EXISTS (SELECT 1 FROM esim_seen_chunks s WHERE s.digest = c.digest))
        UNION ALL
        SELECT m.package_id FROM esim.listing_chunk_members m WHERE m.digest IS NULL) m
  JOIN esim.packages p ON p.id = m.package_id AND p.removed_at IS NULL
 WHERE NOT EXISTS (SELECT 1 FROM esim_members x WHERE x.id = m.package_id)
   AND NOT EXISTS (SELECT 1 FROM esim_staging s WHERE s.id = m.package_id)
)sql";

// Live packages, from the index: the stored chunks' sizes and the packages in none.
inline constexpr const char* kLivePackages = R"sql(
SELECT coalesce((SELECT sum(size) FROM esim.listing_chunks), 0)
       + (SELECT count(*) FROM esim.listing_chunk_members WHERE digest IS NULL)
)sql";

// An id listed twice (the listing shifted while paging): its sightings, each with its place in
// the walk, are those sent (esim_members) and those in stored chunks the walk listed. Two
// stored chunks never share an id, so a duplicate is an id sent twice, an id sent and in a
// listed stored chunk, or a stored chunk listed twice. Each id keeps its later sighting (the
// fresher); the whole rows of its earlier ones leave staging. Every chunk that holds a
// sighting of such an id is no claim about the mirror any more: it is not stored after the pass.
inline constexpr const char* kCollectSightings = R"sql(
CREATE TEMP TABLE IF NOT EXISTS esim_sightings (seq bigint, id text, chunk_seq bigint);
TRUNCATE esim_sightings;
INSERT INTO esim_sightings
SELECT chunk_seq + position, id, chunk_seq FROM esim_members
UNION ALL
SELECT s.first_seq + m.position, m.package_id, s.first_seq
  FROM esim_seen_chunks s JOIN esim.listing_chunk_members m ON m.digest = s.digest
 WHERE s.known
   AND (s.digest IN (SELECT digest FROM esim_seen_chunks WHERE known GROUP BY digest HAVING count(*) > 1)
        OR EXISTS (SELECT 1 FROM esim_members x WHERE x.id = m.package_id));
)sql";
// $1: the rows the walk staged (the lookups' sightings, after them, are never duplicates).
inline constexpr const char* kKeepLaterSightings = R"sql(
WITH twice AS (SELECT id, max(seq) AS keep FROM esim_sightings GROUP BY id HAVING count(*) > 1),
     earlier AS (DELETE FROM esim_staging st USING twice t WHERE st.id = t.id AND st.seq < $1 AND st.seq <> t.keep)
UPDATE esim_seen_chunks c SET valid = false
  FROM (SELECT DISTINCT g.chunk_seq FROM esim_sightings g JOIN twice t ON t.id = g.id) d
 WHERE c.first_seq = d.chunk_seq
)sql";

// After the apply, the index describes the mirror again (the pass's transaction):
// 1. the ids sent now belong to their new chunk (NULL where that chunk holds a duplicate);
inline constexpr const char* kKeepMembers = R"sql(
INSERT INTO esim.listing_chunk_members AS m (package_id, digest, position)
SELECT DISTINCT ON (x.id) x.id, CASE WHEN s.valid THEN s.digest END, x.position
  FROM esim_members x JOIN esim_seen_chunks s ON s.first_seq = x.chunk_seq
 ORDER BY x.id, x.chunk_seq DESC
ON CONFLICT (package_id) DO UPDATE SET digest = excluded.digest, position = excluded.position
 WHERE (m.digest, m.position) IS DISTINCT FROM (excluded.digest, excluded.position)
)sql";
// 2. the chunks this walk did not list (or listed with a duplicate) go, and their members not
//    sent again are in no chunk now (the removal candidates, still live);
inline constexpr const char* kDropUnlistedChunks = R"sql(
WITH gone AS (
    DELETE FROM esim.listing_chunks c
     WHERE NOT EXISTS (SELECT 1 FROM esim_seen_chunks s WHERE s.digest = c.digest AND s.known AND s.valid)
    RETURNING digest
)
UPDATE esim.listing_chunk_members m SET digest = NULL, position = NULL FROM gone g WHERE m.digest = g.digest
)sql";
// 3. the chunks the mirror lacked are stored (a digest listed twice holds a duplicate: invalid);
inline constexpr const char* kStoreNewChunks = R"sql(
INSERT INTO esim.listing_chunks (digest, size)
SELECT digest, size FROM esim_seen_chunks WHERE NOT known AND valid
ON CONFLICT (digest) DO NOTHING
)sql";
// 4. the packages removed by this pass leave the index.
inline constexpr const char* kForgetRemoved = R"sql(
DELETE FROM esim.listing_chunk_members m
 USING esim_diff d JOIN esim.packages p ON p.id = d.id
 WHERE d.seq IS NULL AND p.removed_at IS NOT NULL AND m.package_id = d.id
)sql";

}  // namespace esim::chunk_sql
