#include "store/pg_pass_writer.h"

#include <spdlog/spdlog.h>

#include "store/apply_sql.h"
#include "store/change_feed.h"
#include "store/fingerprint.h"
#include "store/writer_lock.h"
#include "util/escape.h"
#include "util/time_format.h"

namespace esim {

namespace {

// Rows in one COPY batch, and bytes: memory stays at a few megabytes whatever the listing's size
// and however large its packages are.
constexpr std::size_t kRowsPerCopy = 5000;
constexpr std::size_t kBytesPerCopy = 8u << 20;

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

void StepTimer::step(const char* name) {
  if (heartbeat_) heartbeat_();  // between statements: a long apply still feeds the watchdog
  auto now = std::chrono::steady_clock::now();
  report_ += (report_.empty() ? "" : ", ") + std::string(name) + " " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count()) + " ms";
  last_ = now;
}

// The session's staging tables, made (or emptied) for a pass.
static void make_fresh_staging(pqxx::connection& connection) {
  pqxx::work tx(connection, "open_pass");
  tx.exec("SET LOCAL client_min_messages = warning");
  tx.exec(apply_sql::kCreateStaging);
  tx.commit();
}

PgPassWriter::PgPassWriter(pqxx::connection& connection, RunId run, bool must_hold_lock, RunStatus status_after_loss)
    : connection_(connection),
      run_(run),
      must_hold_lock_(must_hold_lock),
      status_after_loss_(std::move(status_after_loss)),
      pipe_([this](const std::vector<std::string>& lines) { send(lines); }) {
  make_fresh_staging(connection_);  // before the first batch: until then the pipe only waits
  lines_.reserve(kRowsPerCopy);
}

void PgPassWriter::stage(const std::vector<Package>& packages) {
  for (const Package& p : packages) {
    summary_.reset();
    // In esim_staging's column order.
    line_.integer(next_seq_++).text(p.id).text(p.sim).integer(p.package_template).text(p.status);
    line_.integer(p.created_date).integer(p.activated_date).integer(p.expiry_date);
    line_.text(p.raw_json).text(fingerprint_uuid(p.raw_json));
    lines_.push_back(line_.take());
    line_bytes_ += lines_.back().size();
    if (lines_.size() >= kRowsPerCopy || line_bytes_ >= kBytesPerCopy) flush();
  }
}

// The batch goes to the pipe, which sends it while the next one is built.
void PgPassWriter::flush() {
  if (lines_.empty()) return;
  pipe_.push(std::move(lines_));
  lines_ = {};
  lines_.reserve(kRowsPerCopy);
  line_bytes_ = 0;
}

// On the pipe's thread: one batch into staging, in a short transaction of its own.
void PgPassWriter::send(const std::vector<std::string>& lines) {
  pqxx::work tx(connection_, "stage");
  copy_lines(tx, "esim_staging", lines);
  tx.commit();
}

// In a short transaction of its own, between two batches: `status` shows how far a running pass got.
void PgPassWriter::record_progress(std::int64_t packages_seen) {
  pipe_.run_between([this, run = run_, packages_seen] {
    pqxx::work tx(connection_, "record_progress");
    tx.exec_params("UPDATE esim.sync_runs SET packages_seen = $2 WHERE id = $1 AND status = 'running'", run,
                   packages_seen);
    tx.commit();
  });
}

std::vector<RemovalCandidate> PgPassWriter::removal_candidates(std::size_t limit) {
  if (!summary_) summary();
  pqxx::work tx(connection_, "removal_candidates");
  std::vector<RemovalCandidate> out;
  for (const auto& row : tx.exec_params(apply_sql::kRemovalCandidates, static_cast<long long>(limit))) {
    RemovalCandidate c{row[0].as<std::string>(), std::nullopt, row[2].as<std::string>(), std::nullopt};
    if (!row[1].is_null()) c.sim = row[1].as<std::string>();
    if (!row[3].is_null()) c.seen_on_same_sim = row[3].as<std::string>();
    candidate_ids_.push_back(c.id);
    out.push_back(std::move(c));
  }
  tx.commit();
  return out;
}

std::vector<std::string> PgPassWriter::seen_packages(const std::string& status, std::size_t n) {
  if (!summary_) summary();
  std::optional<std::string> of_status;
  if (!status.empty()) of_status = status;
  pqxx::work tx(connection_, "seen_packages");
  std::vector<std::string> out;
  // After a candidate picked at random first; from the start when too few follow it.
  const std::string after = candidate_ids_.empty() ? "" : candidate_ids_[random_() % candidate_ids_.size()];
  for (const std::string& from : {after, std::string()}) {
    for (const auto& row : tx.exec_params(apply_sql::kSeenPackages, of_status, static_cast<long long>(n), from)) {
      out.push_back(row[0].as<std::string>());
    }
    if (out.size() >= n || from.empty()) break;
    out.clear();
  }
  if (out.empty()) {
    for (const auto& row : tx.exec_params(apply_sql::kSeenNewPackages, of_status, static_cast<long long>(n))) {
      out.push_back(row[0].as<std::string>());
    }
  }
  tx.commit();
  return out;
}

StagingSummary PgPassWriter::add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) {
  if (!listed.empty()) {  // the walk skipped packages: take the diff again
    stage(listed);
    stage_gone(gone);
    return summary();
  }
  // Only removals proven: the staged listing is as summarised, so patch the counts instead of
  // taking the diff again. Every gone id is a candidate, and no longer one that merely waits
  // on the two-walk rule.
  StagingSummary patched = summary_ ? *summary_ : summary();
  stage_gone(gone);
  pqxx::work tx(connection_, "proof_summary");
  patched.proven_gone = static_cast<std::int64_t>(gone.size());
  patched.missed_before -= tx.exec1(apply_sql::kGoneAndMissedBefore)[0].as<std::int64_t>();
  tx.commit();
  summary_ = patched;
  return patched;
}

void PgPassWriter::stage_gone(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  flush();
  pipe_.drain();
  std::vector<std::string> lines;
  lines.reserve(ids.size());
  for (const std::string& id : ids) lines.push_back(line_.text(id).take());
  pqxx::work tx(connection_, "stage_gone");
  copy_lines(tx, "esim_gone", lines);
  tx.commit();
}

// The diff of the staged listing against the mirror, and what it implies. Over an empty mirror
// there is nothing to diff: every package is new, and the apply loads them straight from staging.
StagingSummary PgPassWriter::summary() {
  flush();
  pipe_.drain();
  const auto started = std::chrono::steady_clock::now();
  pqxx::work tx(connection_, "summary");
  pqxx::row empty = tx.exec1(apply_sql::kEmptyMirror);
  first_load_ = empty[0].as<bool>();
  empty_history_ = empty[1].as<bool>();
  StagingSummary s;
  s.rows = next_seq_;
  if (first_load_) {
    // Duplicates, if any, are found when the load meets the primary key (see load_first).
    s.distinct_ids = s.rows;
  } else {
    tx.exec(apply_sql::kAnalyzeStaging);
    tx.exec(apply_sql::kClearDiff);
    tx.exec(apply_sql::kDiff);
    s = diff_summary(tx);
    if (s.distinct_ids != s.rows) {  // the listing shifted while paging: keep each id's last sighting
      tx.exec(apply_sql::kDropEarlierSightings);
      tx.exec(apply_sql::kClearDiff);
      tx.exec(apply_sql::kDiff);
      s = diff_summary(tx);
    }
  }
  tx.commit();
  diff_ms_ += elapsed_ms(started);
  summary_ = s;
  return s;
}

StagingSummary PgPassWriter::diff_summary(pqxx::work& tx) const {
  pqxx::row r = tx.exec1(apply_sql::kDiffSummary);
  StagingSummary s;
  s.rows = next_seq_;
  s.removal_candidates = r[0].as<std::int64_t>();
  s.live_packages = r[1].as<std::int64_t>();
  s.distinct_ids = r[2].as<std::int64_t>();
  s.proven_gone = r[3].as<std::int64_t>();
  s.missed_before = r[4].as<std::int64_t>();
  return s;
}

PassCounts PgPassWriter::commit(const ApplyOptions& options) {
  if (!summary_) summary();
  const std::string at = util::format_utc_iso8601(options.seen_at);
  PassCounts counts;
  StepTimer timer(options.heartbeat);
  pqxx::work tx(connection_, "apply_pass");
  counts.packages_seen = summary_->distinct_ids;
  if (first_load_) {
    counts.inserted = load_first(tx, at, timer);
    counts.packages_seen = counts.inserted;  // duplicates counted once
  } else {
    tx.exec(apply_sql::kPickChanged);
    tx.exec(apply_sql::kAnalyzeChanged);
    timer.step("pick");
    pqxx::row changed = tx.exec_params1(apply_sql::kApplyChanges, at, run_);
    counts.updated = changed[0].as<std::int64_t>();
    counts.status_changes = changed[1].as<std::int64_t>();
    timer.step("changes");
    counts.inserted = tx.exec_params1(apply_sql::kApplyInserts, at, run_)[0].as<std::int64_t>();
    timer.step("inserts");
  }
  // The summary already counted the candidates under the writer lock: none, nothing to scan for.
  // What an earlier walk lacked proves something only next to a complete walk; a held pass
  // (its walk lost too much to be believed) is no walk to count on either way.
  const bool second_walk_counts = options.walk_complete && options.apply_removals;
  const std::int64_t provable = summary_->proven_gone + (second_walk_counts ? summary_->missed_before : 0);
  if (options.apply_removals && provable > 0) {
    pqxx::row gone = tx.exec_params1(apply_sql::kApplyRemovals, at, run_, second_walk_counts);
    counts.removed = gone[0].as<std::int64_t>();
    counts.removed_by_lookup = gone[1].as<std::int64_t>();
    counts.removed_by_second_walk = counts.removed - counts.removed_by_lookup;
    timer.step("removals");
  }
  counts.removals_deferred = summary_->removal_candidates - counts.removed;
  remember_candidates(tx, at, second_walk_counts ? counts.removals_deferred : 0);
  counts.lookups = options.lookups;
  counts.recovered_by_lookup = options.recovered_by_lookup;
  counts.lookups_inconclusive = options.lookups_inconclusive;
  // A first load's transitions come from the very rows it inserted (its INSERT's RETURNING):
  // checking a million of them again would prove nothing new.
  if (auto orphans = first_load_ ? 0 : tx.exec_params1(apply_sql::kOrphanTransitions, run_)[0].as<std::int64_t>();
      orphans != 0) {
    throw std::runtime_error(std::to_string(orphans) + " transitions of this pass have no package; rolled back");
  }
  counts.unchanged = counts.packages_seen - counts.inserted - counts.updated;
  // The lock is the session's: if this session is not the one that took it, another
  // esim-sync may be applying a pass too. Roll back rather than write twice.
  if (must_hold_lock_ && !tx.exec_params1(apply_sql::kHoldsWriterLock, kWriterLockKey)[0].as<bool>()) {
    throw std::runtime_error("this session no longer holds the writer lock; rolled back");
  }
  change_feed::record(tx, at, run_);  // the events consumers follow, and their wake-up
  timer.step("change feed");
  // The warning may quote an API's error page (a failed lookup): PostgreSQL takes only UTF-8.
  std::optional<std::string> warning;
  if (!options.warning.empty()) warning = util::valid_utf8(options.warning);
  tx.exec_params(apply_sql::kFinishRun, run_, counts.packages_seen, counts.inserted, counts.updated,
                 counts.unchanged, counts.removed, counts.status_changes, warning, options.listing_attempts,
                 counts.lookups, counts.recovered_by_lookup, counts.removed_by_lookup,
                 counts.removed_by_second_walk, counts.removals_deferred, !options.apply_removals,
                 counts.lookups_inconclusive, options.walk_complete);
  timer.step("checks");
  commit_or_resolve(tx);
  timer.step("commit");
  spdlog::debug("apply: {}; staging took {} ms in {} COPY batches, the diff {} ms", timer.report(),
                pipe_.busy_ms(), pipe_.batches(), diff_ms_);
  return counts;
}

// The COMMIT went out and the connection died before its answer came: the pass may or may not
// be in. The run row was marked succeeded in this very transaction, so whether it says so now
// is the answer; a guess either way would record transitions as failed, or lose them.
void PgPassWriter::commit_or_resolve(pqxx::work& tx) {
  try {
    tx.commit();
  } catch (const pqxx::in_doubt_error& e) {
    const std::string status = status_after_loss_ ? status_after_loss_(run_) : "";
    if (status != "succeeded") {
      throw std::runtime_error(std::string(e.what()) + (status.empty() ? " (and the run could not be read to tell)"
                                                                       : " (the run is '" + status + "': not applied)"));
    }
    spdlog::warn("pass {}: the connection was lost while committing; the run row says the pass was applied", run_);
  }
}

// A first load: every staged package straight into the empty mirror, with its first-sighting
// transition, and the secondary indexes built once after the data instead of row by row.
// Duplicates (the listing shifted while paging) meet the primary key; then the load is taken
// again with each id's last sighting, which costs a sort that the usual load never pays.
std::int64_t PgPassWriter::load_first(pqxx::work& tx, const std::string& at, StepTimer& timer) {
  std::vector<std::string> rebuild;
  if (empty_history_ && next_seq_ >= static_cast<std::int64_t>(kRowsPerCopy)) {
    tx.exec("SET LOCAL maintenance_work_mem = '256MB'");
    for (const auto& index : tx.exec(apply_sql::kSecondaryIndexes)) {
      tx.exec("DROP INDEX " + index[0].as<std::string>());
      rebuild.push_back(index[1].as<std::string>());
    }
  }
  std::int64_t inserted = 0;
  tx.exec(apply_sql::kFirstLoadView);
  // A savepoint by hand: libpqxx 6.4's subtransaction left the transaction aborted here.
  bool duplicates = false;
  tx.exec("SAVEPOINT first_load");
  try {
    inserted = tx.exec_params1(apply_sql::kApplyFirstLoad, at, run_)[0].as<std::int64_t>();
    tx.exec("RELEASE SAVEPOINT first_load");
  } catch (const pqxx::unique_violation&) {
    tx.exec("ROLLBACK TO SAVEPOINT first_load");
    duplicates = true;
  }
  if (duplicates) {
    tx.exec(apply_sql::kDedupedFirstLoadView);
    inserted = tx.exec_params1(apply_sql::kApplyFirstLoad, at, run_)[0].as<std::int64_t>();
  }
  timer.step("inserts");
  for (const std::string& definition : rebuild) tx.exec(definition);
  if (!rebuild.empty()) timer.step("index builds");
  // Statistics for the planner now, not when autovacuum gets round to it: the next pass's
  // queries by status were planned for an empty table and took a second each at a million.
  tx.exec("ANALYZE esim.packages");
  timer.step("analyze");
  return inserted;
}

// The two-walk rule's memory, kept only while there is something to remember: a pass with
// no candidates over an empty table writes nothing here. Candidates listed again (or removed)
// are forgotten by any pass; only a complete walk remembers new ones (still_missing 0 else).
void PgPassWriter::remember_candidates(pqxx::work& tx, const std::string& at, std::int64_t still_missing) {
  if (tx.exec1(apply_sql::kAnyRemembered)[0].as<bool>()) tx.exec(apply_sql::kForgetCandidates);
  if (still_missing > 0) tx.exec_params(apply_sql::kRememberCandidates, at, run_);
}

}  // namespace esim
