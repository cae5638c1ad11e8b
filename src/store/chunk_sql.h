#pragma once
// The SQL of the chunk index (migration 0012; ARCHITECTURE.md, "The chunk index"): what a pass
// stages instead of every package, how the diff finds the removal candidates from it, and how
// the apply keeps it true. Values always go in as parameters or COPY data.

namespace esim::chunk_sql {

// Session-lifetime tables, emptied at the start of each pass (with apply_sql::kCreateStaging's):
//   esim_seen_chunks   every chunk of the walk: its first package's place in the walk (seq),
//                      digest and size, whether the mirror holds it (the client knows the
//                      stored digests), for one it lacks the digest of its ids alone, its
//                      anchor (sent by a first load only), whether it may be stored after
//                      this pass (not when it holds an id listed twice), and whether it is a
//                      stored chunk's members with other texts (same_members, kMarkSameMembers);
//   esim_members       the ids of the chunks the mirror lacks, by chunk and place: sightings,
//                      whole or not (the whole package is in esim_staging where it differs);
//   esim_unlisted      the stored chunks the walk did not list (kFindUnlisted);
//   esim_member_batch  one batch's ids, numbered as they came (the client sends the ids alone,
//                      in the order of their chunks, which say where each belongs), asked
//                      about before they join esim_members.
inline constexpr const char* kCreateChunkStaging = R"sql(
CREATE TEMP TABLE IF NOT EXISTS esim_seen_chunks (
    first_seq bigint NOT NULL, digest uuid NOT NULL, size integer NOT NULL, known boolean NOT NULL,
    members_digest uuid, anchor text, valid boolean NOT NULL DEFAULT true, same_members boolean NOT NULL DEFAULT false
);
CREATE TEMP TABLE IF NOT EXISTS esim_members (chunk_seq bigint NOT NULL, position integer NOT NULL, id text NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS esim_member_batch (n bigint GENERATED ALWAYS AS IDENTITY, id text NOT NULL);
CREATE TEMP TABLE IF NOT EXISTS esim_unlisted (anchor text NOT NULL, members_digest uuid NOT NULL);
CREATE INDEX IF NOT EXISTS esim_seen_chunks_seq_idx ON esim_seen_chunks (first_seq);
TRUNCATE esim_seen_chunks, esim_members, esim_unlisted;
TRUNCATE esim_member_batch RESTART IDENTITY;
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

// The members table's primary key, which a first load drops and builds after the data.
inline constexpr const char* kMemberKey = R"sql(
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'esim.listing_chunk_members'::regclass AND contype = 'p'
)sql";

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
SELECT b.n, p.raw_fingerprint
  FROM esim_member_batch b JOIN esim.packages p ON p.id = b.id
 WHERE p.removed_at IS NULL
 ORDER BY b.n
)sql";
// The batch's ids join esim_members, each with its chunk and place: the n-th id of the batch is
// in the chunk (of those the mirror lacks, in order, from $1 to $2) whose running total of sizes
// first reaches n. A hash join (kHashTheBatch first): a nested loop over the unanalyzed batch
// took 300 ms a batch.
inline constexpr const char* kKeepMemberBatch = R"sql(
INSERT INTO esim_members (chunk_seq, position, id)
SELECT c.first_seq, g.position, b.id
  FROM (SELECT first_seq, size, sum(size) OVER (ORDER BY first_seq) - size AS before
          FROM esim_seen_chunks WHERE NOT known AND first_seq BETWEEN $1 AND $2) c
 CROSS JOIN LATERAL generate_series(0, c.size - 1) AS g(position)
  JOIN esim_member_batch b ON b.n = c.before + g.position + 1
)sql";
inline constexpr const char* kHashTheBatch = "SET LOCAL enable_hashjoin = on; SET LOCAL enable_nestloop = off";
inline constexpr const char* kEmptyMemberBatch = "TRUNCATE esim_member_batch RESTART IDENTITY";

inline constexpr const char* kAnalyzeChunkStaging = "ANALYZE esim_seen_chunks; ANALYZE esim_members";

// Every chunk the client took for stored must be: else the index and the client disagree, and
// nothing the pass concluded from it holds.
inline constexpr const char* kUnknownKnownChunks = R"sql(
SELECT count(*) FROM esim_seen_chunks s
 WHERE s.known AND NOT EXISTS (SELECT 1 FROM esim.listing_chunks c WHERE c.digest = s.digest)
)sql";

// A chunk the mirror lacks whose ids, in order, are a stored chunk's: the same members with
// other texts (statuses moved). Its members keep their places; only its digest changes.
inline constexpr const char* kMarkSameMembers = R"sql(
UPDATE esim_seen_chunks s SET same_members = true
  FROM esim.listing_chunks c
 WHERE NOT s.known AND NOT s.same_members AND c.members_digest = s.members_digest
)sql";

// The stored chunks the walk did not list, neither as they are nor with other texts: those
// whose digest it did not list, less those whose members it listed. In two steps, the first
// analyzed: as one statement the planner took the first anti-join for a row and ran the second
// as a nested loop (45 s at a million packages).
inline constexpr const char* kFindUnlisted = R"sql(
TRUNCATE esim_unlisted;
INSERT INTO esim_unlisted
SELECT c.anchor, c.members_digest FROM esim.listing_chunks c
 WHERE NOT EXISTS (SELECT 1 FROM esim_seen_chunks s WHERE s.digest = c.digest);
ANALYZE esim_unlisted;
DELETE FROM esim_unlisted u USING esim_seen_chunks s WHERE s.same_members AND s.members_digest = u.members_digest;
)sql";

// The live packages the walk lacks: those of a stored chunk it did not list, and those in no
// stored chunk, unless their id was sent (esim_members) or staged whole (esim_staging: the
// lookups' sightings). Every live package has exactly one row of esim.listing_chunk_members,
// so this is the full join of the old diff without reading a million rows: the unlisted
// chunks are found among some 60,000 digests, and their members through an index (the anchors
// as an array: given a subquery, the planner hashed every member instead).
inline constexpr const char* kCandidates =
    "INSERT INTO esim_diff (seq, id, known, live) "
    "SELECT NULL, m.package_id, true, true "
    "  FROM (SELECT m.package_id FROM esim.listing_chunk_members m "
    "         WHERE m.anchor = ANY (ARRAY(SELECT anchor FROM esim_unlisted)) "
    "        UNION ALL "
    "        SELECT m.package_id FROM esim.listing_chunk_members m WHERE m.anchor IS NULL) m "
    "  JOIN esim.packages p ON p.id = m.package_id AND p.removed_at IS NULL "
    " WHERE NOT EXISTS (SELECT 1 FROM esim_members x WHERE x.id = m.package_id) "
    "   AND NOT EXISTS (SELECT 1 FROM esim_staging s WHERE s.id = m.package_id)";

// Live packages, from the index: the stored chunks' sizes and the packages in none.
inline constexpr const char* kLivePackages = R"sql(
SELECT coalesce((SELECT sum(size) FROM esim.listing_chunks), 0)
       + (SELECT count(*) FROM esim.listing_chunk_members WHERE anchor IS NULL)
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
  FROM esim_seen_chunks s
  JOIN esim.listing_chunks c ON c.digest = s.digest
  JOIN esim.listing_chunk_members m ON m.anchor = c.anchor
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

// After the apply, the index describes the mirror again (the pass's transaction). A chunk's
// anchor is its first member (position 0 of esim_members for a chunk the mirror lacked).
// 1. the ids sent belong to their new chunk (none where that chunk holds a duplicate); a
//    chunk whose text changed keeps its anchor and members, so nothing of theirs is written;
//    Rows already right are left out before the upsert: ON CONFLICT locks (and so writes) every
//    row it meets, even one its WHERE then leaves alone.
#define ESIM_PLACED_MEMBERS(distinct, order)                                                        \
  "INSERT INTO esim.listing_chunk_members AS m (package_id, anchor, position) "                      \
  "SELECT placed.id, placed.anchor, placed.position "                                               \
  "  FROM (SELECT " distinct " x.id, CASE WHEN s.valid THEN a.id END AS anchor, "                   \
  "               CASE WHEN s.valid THEN x.position END AS position "                               \
  "          FROM esim_members x "                                                                  \
  "          JOIN esim_seen_chunks s ON s.first_seq = x.chunk_seq "                                 \
  "          JOIN esim_members a ON a.chunk_seq = x.chunk_seq AND a.position = 0 "                   \
  "         WHERE NOT (s.same_members AND s.valid) " order ") placed "                             \
  "  LEFT JOIN esim.listing_chunk_members now ON now.package_id = placed.id "                        \
  " WHERE now.package_id IS NULL OR (now.anchor, now.position) IS DISTINCT FROM (placed.anchor, placed.position) " \
  "ON CONFLICT (package_id) DO UPDATE SET anchor = excluded.anchor, position = excluded.position"
inline constexpr const char* kKeepMembers = ESIM_PLACED_MEMBERS("", "");
//    With an id sent twice, its later chunk (invalid, so in none) is the one kept.
inline constexpr const char* kKeepMembersOnce =
    ESIM_PLACED_MEMBERS("DISTINCT ON (x.id)", "ORDER BY x.id, x.chunk_seq DESC");
#undef ESIM_PLACED_MEMBERS
//    A first load sends no ids apart: every package is staged whole with its place (anchor,
//    position) and each chunk with its anchor. Without duplicates it has nothing to conflict
//    with and no id twice: it inserts, members and chunks, each from one table.
inline constexpr const char* kFirstMembers =
    "INSERT INTO esim.listing_chunk_members (package_id, anchor, position) "
    "SELECT id, anchor, position FROM esim_staging WHERE anchor IS NOT NULL";
inline constexpr const char* kFirstChunks =
    "INSERT INTO esim.listing_chunks (anchor, digest, members_digest, size) "
    "SELECT anchor, digest, members_digest, size FROM esim_seen_chunks";
//    With duplicates, the sightings go to esim_members first (as a later pass's would have
//    been sent), and the first load's index is kept like any other pass's.
inline constexpr const char* kMembersFromStaging =
    "INSERT INTO esim_members (chunk_seq, position, id) "
    "SELECT seq - position, position, id FROM esim_staging WHERE anchor IS NOT NULL";
// 2. the stored chunks the walk did not list as they are (or listed with a duplicate) go; their
//    members not sent again are in no chunk now (the removal candidates, still live);
inline constexpr const char* kDropUnlistedChunks = R"sql(
WITH stale AS (
    SELECT anchor FROM esim_unlisted
    UNION
    SELECT c.anchor FROM esim.listing_chunks c JOIN esim_seen_chunks s ON s.digest = c.digest
     WHERE s.known AND NOT s.valid
    UNION
    SELECT c.anchor FROM esim.listing_chunks c JOIN esim_seen_chunks s ON s.members_digest = c.members_digest
     WHERE s.same_members AND NOT s.valid
), unplaced AS (
    UPDATE esim.listing_chunk_members m SET anchor = NULL, position = NULL
     WHERE m.anchor = ANY (ARRAY(SELECT anchor FROM stale))
       AND NOT EXISTS (SELECT 1 FROM esim_members x WHERE x.id = m.package_id)
)
DELETE FROM esim.listing_chunks c USING stale WHERE c.anchor = stale.anchor
)sql";
// 3. the same members with other texts take their new digest; the other chunks the mirror
//    lacked are stored under their anchors;
inline constexpr const char* kRedigestChunks = R"sql(
UPDATE esim.listing_chunks c SET digest = s.digest
  FROM esim_seen_chunks s
 WHERE s.same_members AND s.valid AND c.members_digest = s.members_digest
)sql";
inline constexpr const char* kStoreNewChunks = R"sql(
INSERT INTO esim.listing_chunks (anchor, digest, members_digest, size)
SELECT a.id, s.digest, s.members_digest, s.size
  FROM esim_seen_chunks s JOIN esim_members a ON a.chunk_seq = s.first_seq AND a.position = 0
 WHERE NOT s.known AND s.valid AND NOT s.same_members
)sql";
// 4. the packages removed by this pass leave the index.
inline constexpr const char* kForgetRemoved = R"sql(
DELETE FROM esim.listing_chunk_members m
 USING esim_diff d JOIN esim.packages p ON p.id = d.id
 WHERE d.seq IS NULL AND p.removed_at IS NOT NULL AND m.package_id = d.id
)sql";

}  // namespace esim::chunk_sql
