#include <spdlog/spdlog.h>

#include "store/apply_sql.h"
#include "store/chunk_sql.h"
#include "store/history_sql.h"
#include "store/change_feed.h"
#include "store/pg_pass_diff.h"
#include "store/writer_lock.h"
#include "util/escape.h"
#include "util/stopwatch.h"
#include "util/time_format.h"

// The apply: the last step of a pass in PostgreSQL, one transaction (ARCHITECTURE.md, step 6).
namespace esim {

namespace {

// A first load of at least this many rows drops the secondary indexes and builds them after
// the data: cheaper than maintaining them row by row, but not for a handful of rows.
constexpr std::int64_t kRebuildIndexesFrom = 5000;

}  // namespace

// One transaction, its steps in order (ARCHITECTURE.md, step 6). Any exception rolls all of it back.
PassCounts PgPassDiff::commit(const ApplyOptions& options) {
  const std::string at = util::format_utc_iso8601(options.seen_at);
  util::StepTimer timer(options.heartbeat);
  pqxx::work tx(context_.connection, "apply_pass");
  tx.exec(chunk_sql::kApplyingPass);                              // its writes keep the chunk index
  PassCounts counts = write_listed(tx, at, timer);               // 1. what the walk listed
  apply_removals(tx, at, options, counts, timer);                 // 2. proven removals; the rest remembered
  if (!first_load_) keep_chunk_index(tx);                         // 3. the chunk index describes the mirror
  timer.step("chunk index");
  check_transitions(tx, at);                                      // 4. every transition has its package
  tx.exec_params(history_sql::kRollUpStatusStock, at, context_.run);  // 5. the day's stock by status
  check_writer_lock(tx);                                          // 6. still the only writer
  timer.step("checks");
  change_feed::record(tx, at, context_.run, options.templates);  // 7. the events consumers follow
  timer.step("change feed");
  finish_run(tx, options, counts);                                // 8. the run row: succeeded
  commit_or_resolve(tx);                                          // 9. COMMIT, even if its answer is lost
  timer.step("commit");
  const StagingTraffic& sent = staged_.traffic;
  spdlog::debug("apply: {}; staging took {} ms in {} batches ({} chunks, {} sent as a digest alone; {} ids sent, "
                "{} packages whole), the diff {} ms; {} bytes sent to PostgreSQL, the listing's were {}",
                timer.report(), staged_.copy_ms, staged_.copy_batches, sent.chunks, sent.chunks_known, sent.ids_sent,
                sent.whole, diff_ms_, bytes_sent_ ? std::to_string(*bytes_sent_) : "uncounted (not TCP)",
                options.listing_bytes);
  return counts;
}

// Changed packages rewritten (their old rows kept as versions, transitions recorded) and new
// ones inserted; into an empty mirror, the whole listing loaded at once.
PassCounts PgPassDiff::write_listed(pqxx::work& tx, const std::string& at, util::StepTimer& timer) {
  PassCounts counts;
  counts.packages_seen = summary_.distinct_ids;
  if (first_load_) {
    counts.inserted = load_first(tx, at, timer);
    counts.packages_seen = counts.inserted;  // duplicates counted once
  } else {
    tx.exec(apply_sql::kPickChanged);
    tx.exec(apply_sql::kAnalyzeChanged);
    timer.step("pick");
    pqxx::row changed = tx.exec_params1(apply_sql::kApplyChanges, at, context_.run, context_.volatile_fields);
    counts.updated = changed[0].as<std::int64_t>();
    counts.status_changes = changed[1].as<std::int64_t>();
    counts.usage_changes = changed[2].as<std::int64_t>();
    timer.step("changes");
    counts.inserted = tx.exec_params1(apply_sql::kApplyInserts, at, context_.run)[0].as<std::int64_t>();
    timer.step("inserts");
  }
  counts.unchanged = counts.packages_seen - counts.inserted - counts.updated;
  return counts;
}

// The summary already counted the candidates under the writer lock: none, nothing to scan for.
// What an earlier walk lacked proves something only next to a complete walk; a held pass (its
// walk lost too much to be believed) is no walk to count on either way.
void PgPassDiff::apply_removals(pqxx::work& tx, const std::string& at, const ApplyOptions& options,
                                PassCounts& counts, util::StepTimer& timer) {
  const bool second_walk_counts = options.walk_complete && options.apply_removals;
  const std::int64_t provable = summary_.proven_gone + (second_walk_counts ? summary_.missed_before : 0);
  if (options.apply_removals && provable > 0) {
    pqxx::row gone = tx.exec_params1(apply_sql::kApplyRemovals, at, context_.run, second_walk_counts);
    counts.removed = gone[0].as<std::int64_t>();
    counts.removed_by_lookup = gone[1].as<std::int64_t>();
    counts.removed_by_second_walk = counts.removed - counts.removed_by_lookup;
    timer.step("removals");
  }
  counts.removals_deferred = summary_.removal_candidates - counts.removed;
  remember_candidates(tx, at, second_walk_counts ? counts.removals_deferred : 0);
  counts.lookups = options.lookups;
  counts.recovered_by_lookup = options.recovered_by_lookup;
  counts.lookups_inconclusive = options.lookups_inconclusive;
}

// A first load's transitions come from the very rows it inserted (its INSERT's RETURNING):
// checking a million of them again would prove nothing new.
void PgPassDiff::check_transitions(pqxx::work& tx, const std::string& at) {
  if (first_load_) return;
  if (auto orphans = tx.exec_params1(apply_sql::kOrphanTransitions, context_.run, at)[0].as<std::int64_t>();
      orphans != 0) {
    throw std::runtime_error(std::to_string(orphans) + " transitions of this pass have no package; rolled back");
  }
}

// The lock is the session's: if this session is not the one that took it, another esim-sync
// may be applying a pass too. Roll back rather than write twice.
void PgPassDiff::check_writer_lock(pqxx::work& tx) {
  if (context_.must_hold_lock && !tx.exec_params1(apply_sql::kHoldsWriterLock, kWriterLockKey)[0].as<bool>()) {
    throw std::runtime_error("this session no longer holds the writer lock; rolled back");
  }
}

void PgPassDiff::finish_run(pqxx::work& tx, const ApplyOptions& options, const PassCounts& counts) {
  // The warning may quote an API's error page (a failed lookup): PostgreSQL takes only UTF-8.
  std::optional<std::string> warning;
  if (!options.warning.empty()) warning = util::valid_utf8(options.warning);
  tx.exec_params(apply_sql::kFinishRun, context_.run, counts.packages_seen, counts.inserted, counts.updated,
                 counts.unchanged, counts.removed, counts.status_changes, warning, options.listing_attempts,
                 counts.lookups, counts.recovered_by_lookup, counts.removed_by_lookup,
                 counts.removed_by_second_walk, counts.removals_deferred, !options.apply_removals,
                 counts.lookups_inconclusive, options.walk_complete, counts.usage_changes, options.listing_bytes,
                 bytes_sent_ = context_.bytes_sent());
}

// The COMMIT went out and the connection died before its answer came: the pass may or may not
// be in. The run row was marked succeeded in this very transaction, so whether it says so now
// is the answer; a guess either way would record transitions as failed, or lose them.
void PgPassDiff::commit_or_resolve(pqxx::work& tx) {
  try {
    tx.commit();
  } catch (const pqxx::in_doubt_error& e) {
    const std::string status = context_.status_after_loss ? context_.status_after_loss(context_.run) : "";
    if (status != "succeeded") {
      throw std::runtime_error(std::string(e.what()) + (status.empty() ? " (and the run could not be read to tell)"
                                                                       : " (the run is '" + status + "': not applied)"));
    }
    spdlog::warn("pass {}: the connection was lost while committing; the run row says the pass was applied", context_.run);
  }
}

// Drops the secondary indexes of the mirror, its history and the chunk index, and the chunk
// index's primary key (a million ids sorted once cost less than inserted into a tree one by
// one), keeping their definitions to build them after the data.
void PgPassDiff::drop_indexes(pqxx::work& tx, std::vector<std::string>& rebuild, std::vector<std::string>& member_key) {
  tx.exec("SET LOCAL maintenance_work_mem = '256MB'");
  for (const auto& index : tx.exec(apply_sql::kSecondaryIndexes)) {
    tx.exec("DROP INDEX " + index[0].as<std::string>());
    rebuild.push_back(index[1].as<std::string>());
  }
  for (const auto& key : tx.exec(chunk_sql::kMemberKey)) {
    const std::string name = tx.quote_name(key[0].as<std::string>());
    tx.exec("ALTER TABLE esim.listing_chunk_members DROP CONSTRAINT " + name);
    member_key.push_back("ALTER TABLE esim.listing_chunk_members ADD CONSTRAINT " + name + " " +
                         key[1].as<std::string>());
  }
}

// Runs the definitions of dropped indexes and keys, once.
void PgPassDiff::rebuild_all(pqxx::work& tx, std::vector<std::string>& definitions) {
  for (const std::string& definition : definitions) tx.exec(definition);
  definitions.clear();
}

// A first load: every staged package straight into the empty mirror, with its first-sighting
// transition, and the secondary indexes built once after the data instead of row by row.
// Duplicates (the listing shifted while paging) meet the primary key; then the load is taken
// again with each id's last sighting, which costs a sort that the usual load never pays.
std::int64_t PgPassDiff::load_first(pqxx::work& tx, const std::string& at, util::StepTimer& timer) {
  std::vector<std::string> rebuild, member_key;
  if (empty_history_ && staged_.rows >= kRebuildIndexesFrom) drop_indexes(tx, rebuild, member_key);
  std::int64_t inserted = 0;
  tx.exec(apply_sql::kFirstLoadView);
  // A savepoint by hand: libpqxx 6.4's subtransaction left the transaction aborted here.
  bool duplicates = false;
  tx.exec("SAVEPOINT first_load");
  try {
    inserted = tx.exec_params1(apply_sql::kApplyFirstLoad, at, context_.run)[0].as<std::int64_t>();
    tx.exec("RELEASE SAVEPOINT first_load");
  } catch (const pqxx::unique_violation&) {
    tx.exec("ROLLBACK TO SAVEPOINT first_load");
    duplicates = true;
  }
  if (duplicates) {
    // For the chunk index: the sightings, from staging, then the chunks holding a duplicate
    // are not stored.
    tx.exec(apply_sql::kAnalyzeStaging);
    tx.exec(chunk_sql::kMembersFromStaging);
    resolve_duplicates(tx);
    tx.exec(apply_sql::kDedupedFirstLoadView);
    inserted = tx.exec_params1(apply_sql::kApplyFirstLoad, at, context_.run)[0].as<std::int64_t>();
  }
  timer.step("inserts");
  // A million rows too: before the indexes are built; but with duplicates the index is kept
  // as by any pass, whose upsert needs the key.
  if (duplicates) rebuild_all(tx, member_key);
  keep_chunk_index(tx);
  timer.step("chunk index");
  const bool rebuilding = !rebuild.empty();
  rebuild_all(tx, member_key);
  rebuild_all(tx, rebuild);
  if (rebuilding) timer.step("index builds");
  // Statistics for the planner now, not when autovacuum gets round to it: the next pass's
  // queries by status were planned for an empty table and took a second each at a million.
  tx.exec("ANALYZE esim.packages");
  timer.step("analyze");
  return inserted;
}

// The chunk index after this pass (chunk_sql.h): the ids sent belong to their new chunks, the
// chunks the walk did not list go (their members not sent again are in none now), the new
// chunks are stored, and the packages removed now leave it. In the steady state that is an
// anti-join of some 60,000 digests with as many, and nothing written.
void PgPassDiff::keep_chunk_index(pqxx::work& tx) {
  if (first_load_ && !duplicates_) {  // every package staged whole at its place: two plain scans
    tx.exec(chunk_sql::kFirstMembers);
    tx.exec(chunk_sql::kFirstChunks);
    return;
  }
  // A first load with duplicates joins like any pass; its diff, which analyzes them, was skipped.
  if (first_load_) tx.exec(chunk_sql::kAnalyzeChunkStaging);
  tx.exec(duplicates_ ? chunk_sql::kKeepMembersOnce : chunk_sql::kKeepMembers);
  tx.exec(chunk_sql::kDropUnlistedChunks);
  tx.exec(chunk_sql::kRedigestChunks);
  tx.exec(chunk_sql::kStoreNewChunks);
  if (!first_load_) tx.exec(chunk_sql::kForgetRemoved);
}

// The two-walk rule's memory, kept only while there is something to remember: a pass with
// no candidates over an empty table writes nothing here. Candidates listed again (or removed)
// are forgotten by any pass; only a complete walk remembers new ones (still_missing 0 else).
void PgPassDiff::remember_candidates(pqxx::work& tx, const std::string& at, std::int64_t still_missing) {
  if (tx.exec1(apply_sql::kAnyRemembered)[0].as<bool>()) tx.exec(apply_sql::kForgetCandidates);
  if (still_missing > 0) tx.exec_params(apply_sql::kRememberCandidates, at, context_.run);
}

}  // namespace esim
