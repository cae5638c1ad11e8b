#include "store/pg_store.h"

#include <unistd.h>

#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

#include "store/apply_sql.h"
#include <pqxx/tablewriter>

#include "util/conninfo.h"
#include "util/copy_text.h"
#include "util/redact.h"
#include "util/time_format.h"

namespace esim {

namespace {

// The writer lock's key: one per database, whichever host the writer runs on.
constexpr long long kWriterLockKey = 0x6573696d73796e63;  // "esimsync"

// Rows buffered before one COPY, and bytes: memory stays at a few megabytes whatever the
// listing's size and however large its packages are.
constexpr std::size_t kRowsPerCopy = 5000;
constexpr std::size_t kBytesPerCopy = 8u << 20;


// Writes pre-built COPY lines. libpqxx 6.4's stream_to escapes field by field, character by
// character, which was the largest single cost of staging; its tablewriter takes whole lines.
// (Deprecated in 6.4 in favour of stream_to, and the only public way to send raw COPY lines.)
void copy_lines(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& lines) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter writer(tx, table);
#pragma GCC diagnostic pop
  for (const std::string& line : lines) writer.write_raw_line(line);
  writer.complete();
}

// Milliseconds per named step, for one debug line per apply.
class StepTimer {
 public:
  explicit StepTimer(std::function<void()> heartbeat) : heartbeat_(std::move(heartbeat)) {}
  void step(const char* name) {
    if (heartbeat_) heartbeat_();  // between statements: a long apply still feeds the watchdog
    auto now = std::chrono::steady_clock::now();
    report_ += (report_.empty() ? "" : ", ") + std::string(name) + " " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count()) + " ms";
    last_ = now;
  }
  const std::string& report() const { return report_; }

 private:
  std::function<void()> heartbeat_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::string report_;
};

class PgPassWriter final : public PassWriter {
 public:
  // must_hold_lock: the pass took the writer lock, so its apply checks that it still holds it.
  PgPassWriter(pqxx::connection& connection, RunId run, bool must_hold_lock)
      : connection_(connection), run_(run), must_hold_lock_(must_hold_lock) {
    pqxx::work tx(connection_, "open_pass");
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec(apply_sql::kCreateStaging);
    tx.commit();
    lines_.reserve(kRowsPerCopy);
  }

  void stage(const std::vector<Package>& packages) override {
    for (const Package& p : packages) {
      summary_.reset();
      // In esim_staging's column order.
      line_.integer(next_seq_++).text(p.id).text(p.sim).integer(p.package_template).text(p.status);
      line_.integer(p.created_date).integer(p.activated_date).integer(p.expiry_date);
      line_.text(p.raw_json);
      lines_.push_back(line_.take());
      line_bytes_ += lines_.back().size();
      if (lines_.size() >= kRowsPerCopy || line_bytes_ >= kBytesPerCopy) flush();
    }
  }

  std::vector<RemovalCandidate> removal_candidates(std::size_t limit) override {
    flush();
    pqxx::work tx(connection_, "removal_candidates");
    std::vector<RemovalCandidate> out;
    for (const auto& row : tx.exec_params(apply_sql::kRemovalCandidates, static_cast<long long>(limit))) {
      RemovalCandidate c{row[0].as<std::string>(), std::nullopt};
      if (!row[1].is_null()) c.sim = row[1].as<std::string>();
      out.push_back(std::move(c));
    }
    tx.commit();
    return out;
  }

  StagingSummary add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) override {
    if (!listed.empty()) {  // the walk skipped packages: count everything again
      stage(listed);
      stage_gone(gone);
      return summary();
    }
    // Only removals proven: the staged listing is as summarised, so patch the counts instead of
    // scanning a million rows again. Every gone id is a candidate, and no longer one that merely
    // waits on the two-walk rule.
    StagingSummary patched = summary_ ? *summary_ : summary();
    stage_gone(gone);
    pqxx::work tx(connection_, "proof_summary");
    patched.proven_gone = static_cast<std::int64_t>(gone.size());
    patched.missed_before -= tx.exec1(apply_sql::kGoneAndMissedBefore)[0].as<std::int64_t>();
    tx.commit();
    summary_ = patched;
    return patched;
  }

  void stage_gone(const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    summary_.reset();
    std::vector<std::string> lines;
    lines.reserve(ids.size());
    for (const std::string& id : ids) lines.push_back(line_.text(id).take());
    pqxx::work tx(connection_, "stage_gone");
    copy_lines(tx, "esim_gone", lines);
    tx.commit();
  }

  StagingSummary summary() override {
    flush();
    pqxx::work tx(connection_, "summary");
    tx.exec(apply_sql::kAnalyzeStaging);
    pqxx::row r = tx.exec1(apply_sql::kStagingSummary);
    tx.commit();
    summary_ = StagingSummary{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                              r[3].as<std::int64_t>(), r[4].as<std::int64_t>(), r[5].as<std::int64_t>()};
    return *summary_;
  }

  PassCounts commit(const ApplyOptions& options) override {
    flush();
    const std::string at = util::format_utc_iso8601(options.seen_at);
    PassCounts counts;
    StepTimer timer(options.heartbeat);
    if (!summary_) summary();  // the pass view needs to know about duplicates
    timer.step("summary");
    pqxx::work tx(connection_, "apply_pass");
    const bool duplicates = summary_->rows != summary_->distinct_ids;
    tx.exec(duplicates ? apply_sql::kDedupedPassView : apply_sql::kPassView);
    counts.packages_seen = summary_->distinct_ids;
    // First load: drop the secondary indexes now and build them after the inserts.
    std::vector<std::string> rebuild;
    if (tx.exec1(apply_sql::kEmptyMirror)[0].as<bool>() && summary_->distinct_ids >= static_cast<std::int64_t>(kRowsPerCopy)) {
      tx.exec("SET LOCAL maintenance_work_mem = '256MB'");
      for (const auto& index : tx.exec(apply_sql::kSecondaryIndexes)) {
        tx.exec("DROP INDEX " + index[0].as<std::string>());
        rebuild.push_back(index[1].as<std::string>());
      }
    }
    pqxx::row changed = tx.exec_params1(apply_sql::kApplyChanges, at, run_);
    counts.updated = changed[0].as<std::int64_t>();
    counts.status_changes = changed[1].as<std::int64_t>();
    timer.step("changes");
    counts.inserted = tx.exec_params1(apply_sql::kApplyInserts, at, run_)[0].as<std::int64_t>();
    timer.step("inserts");
    // The summary already counted the candidates under the writer lock: none, nothing to scan for.
    if (options.apply_removals && summary_->provable_removals() > 0) {
      pqxx::row gone = tx.exec_params1(apply_sql::kApplyRemovals, at, run_);
      counts.removed = gone[0].as<std::int64_t>();
      counts.removed_by_lookup = gone[1].as<std::int64_t>();
      counts.removed_by_second_walk = counts.removed - counts.removed_by_lookup;
      timer.step("removals");
    }
    counts.removals_deferred = summary_->removal_candidates - counts.removed;
    remember_candidates(tx, at, counts.removals_deferred);
    counts.lookups = options.lookups;
    counts.recovered_by_lookup = options.recovered_by_lookup;
    for (const std::string& definition : rebuild) tx.exec(definition);
    if (!rebuild.empty()) timer.step("index builds");
    if (auto orphans = tx.exec_params1(apply_sql::kOrphanTransitions, run_)[0].as<std::int64_t>(); orphans != 0) {
      throw std::runtime_error(std::to_string(orphans) + " transitions of this pass have no package; rolled back");
    }
    counts.unchanged = counts.packages_seen - counts.inserted - counts.updated;
    // The lock is the session's: if this session is not the one that took it, another
    // esim-sync may be applying a pass too. Roll back rather than write twice.
    if (must_hold_lock_ && !tx.exec_params1(apply_sql::kHoldsWriterLock, kWriterLockKey)[0].as<bool>()) {
      throw std::runtime_error("this session no longer holds the writer lock; rolled back");
    }
    std::optional<std::string> warning;
    if (!options.warning.empty()) warning = options.warning;
    tx.exec_params(apply_sql::kFinishRun, run_, counts.packages_seen, counts.inserted, counts.updated,
                   counts.unchanged, counts.removed, counts.status_changes, warning, options.listing_attempts,
                   counts.lookups, counts.recovered_by_lookup, counts.removed_by_lookup,
                   counts.removed_by_second_walk, counts.removals_deferred);
    tx.commit();
    timer.step("commit");
    spdlog::debug("apply: {}; staging took {} ms in {} COPY batches", timer.report(), copy_ms_, copies_);
    return counts;
  }

 private:
  // The two-walk rule's memory, kept only while there is something to remember: a pass with
  // no candidates over an empty table writes nothing here.
  void remember_candidates(pqxx::work& tx, const std::string& at, std::int64_t still_missing) {
    if (tx.exec1(apply_sql::kAnyRemembered)[0].as<bool>()) tx.exec(apply_sql::kForgetCandidates);
    if (still_missing > 0) tx.exec_params(apply_sql::kRememberCandidates, at, run_);
  }

  // Each COPY is its own short transaction into the session's temporary table: nothing is
  // visible to others, and no transaction stays open while the next page is fetched.
  void flush() {
    if (lines_.empty()) return;
    const auto started = std::chrono::steady_clock::now();
    pqxx::work tx(connection_, "stage");
    copy_lines(tx, "esim_staging", lines_);
    tx.commit();
    lines_.clear();
    line_bytes_ = 0;
    copy_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    ++copies_;
  }

  pqxx::connection& connection_;
  RunId run_;
  bool must_hold_lock_;
  std::int64_t next_seq_ = 0;
  util::CopyLine line_;
  std::vector<std::string> lines_;
  std::size_t line_bytes_ = 0;
  std::optional<StagingSummary> summary_;  // of the rows staged so far; reset by stage()
  long long copy_ms_ = 0, copies_ = 0;  // for the debug log
};

}  // namespace

// A dead peer or a half-open connection is noticed in seconds, not at the kernel's two hours.
const std::vector<std::pair<std::string, std::string>> kConnectionDefaults = {
    {"connect_timeout", "10"}, {"keepalives", "1"},        {"keepalives_idle", "10"},
    {"keepalives_interval", "5"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
};

PgStore::PgStore(std::string conninfo, std::chrono::milliseconds statement_timeout, util::CancelToken* cancel)
    : conninfo_(util::with_connection_defaults(conninfo, kConnectionDefaults)),
      statement_timeout_(statement_timeout),
      cancel_(cancel) {
  if (cancel_ == nullptr) return;
  // SIGTERM while a statement runs (a lock wait, a long apply): ask the server to cancel it,
  // so the pass fails now and rolls back, instead of at statement_timeout.
  cancel_hook_ = cancel_->add_hook([this] {
    std::lock_guard lock(connection_mutex_);
    if (connection_ && connection_->is_open()) connection_->cancel_query();
  });
}

PgStore::~PgStore() {
  if (cancel_ != nullptr) cancel_->remove_hook(cancel_hook_);
}

void PgStore::drop_connection() {
  std::lock_guard lock(connection_mutex_);
  connection_.reset();
  holds_writer_lock_ = false;  // it went with the session
}

pqxx::connection& PgStore::session() {
  if (!connection_) return connection();  // first use (a pass always starts by taking the lock)
  if (!connection_->is_open()) {
    throw std::runtime_error("the database session was lost during the pass (the writer lock and the staged "
                             "pages went with it); nothing of this pass was applied");
  }
  return *connection_;
}

pqxx::connection& PgStore::connection() {
  if (connection_ && !connection_->is_open()) drop_connection();
  if (!connection_) {
    try {
      auto fresh = std::make_unique<pqxx::connection>(conninfo_);
      // libpqxx would otherwise reconnect a broken session silently at the next BEGIN, in the
      // middle of a pass, without its temporary tables or its writer lock.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      fresh->inhibit_reactivation(true);  // deprecated in 6.4, and the only way to say so
#pragma GCC diagnostic pop
      {
        std::lock_guard lock(connection_mutex_);
        connection_ = std::move(fresh);
        holds_writer_lock_ = false;  // a new session holds nothing yet
      }
      pqxx::nontransaction setup(*connection_);
      // Names this process to whoever looks: `status` and a standby say who the writer is.
      setup.exec_params("SELECT set_config('application_name', $1, false)", application_name());
      // The summary and the diff sort and hash the whole pass: let them do it in memory
      // (server memory, for this one session).
      setup.exec("SET work_mem = '256MB'");
      // JIT compiles expressions for statements the planner thinks expensive; the apply's are
      // simple comparisons over a million rows, where compiling cost up to half a second a
      // pass and won nothing back (measured with auto_explain at 1M packages).
      setup.exec("SET jit = off");
      if (statement_timeout_.count() > 0) {
        setup.exec_params("SELECT set_config('statement_timeout', $1, false)",
                          std::to_string(statement_timeout_.count()) + "ms");
      }
    } catch (const pqxx::broken_connection& e) {
      drop_connection();
      throw DatabaseError("cannot connect to PostgreSQL at " +
                          util::redact_connection_string(conninfo_) + ": " + e.what());
    }
  }
  return *connection_;
}

MigrateResult PgStore::migrate() { return esim::migrate(connection()); }

std::map<std::string, std::int64_t> PgStore::live_counts() {
  pqxx::nontransaction tx(connection(), "live_counts");
  std::map<std::string, std::int64_t> out;
  for (const auto& row : tx.exec("SELECT status, count(*) FROM esim.packages WHERE removed_at IS NULL GROUP BY status")) {
    out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  }
  return out;
}

RunId PgStore::start_run(TimePoint started_at, std::chrono::seconds interval) {
  pqxx::work tx(session(), "start_run");
  RunId run = tx.exec_params1(
                    "INSERT INTO esim.sync_runs (started_at, status, interval_seconds) "
                    "VALUES ($1::timestamptz, 'running', $2) RETURNING id",
                    util::format_utc_iso8601(started_at), static_cast<long long>(interval.count()))[0]
                  .as<RunId>();
  tx.commit();
  return run;
}

std::unique_ptr<PassWriter> PgStore::open_pass(RunId run) {
  return std::make_unique<PgPassWriter>(session(), run, holds_writer_lock_);
}


long long PgStore::writer_lock_key() { return kWriterLockKey; }

std::string PgStore::application_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  // PostgreSQL keeps 63 bytes of it.
  return ("esim-sync host=" + std::string(host)).substr(0, 48) + " pid=" + std::to_string(getpid());
}

bool PgStore::try_lock_writer() {
  // Held since an earlier pass (`run` keeps it as its leadership) on a session still alive.
  if (holds_writer_lock_ && connection_ && connection_->is_open()) return true;
  holds_writer_lock_ = false;
  // The first statement of a pass: if the server restarted since the last one, the old session
  // is dead. Start a new one rather than fail this pass too.
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::nontransaction tx(connection(), "lock_writer");
      holds_writer_lock_ = tx.exec_params1("SELECT pg_try_advisory_lock($1)", kWriterLockKey)[0].as<bool>();
      return holds_writer_lock_;
    } catch (const DatabaseError&) {
      throw;  // could not even connect: nothing to retry here
    } catch (const std::exception&) {
      drop_connection();
      if (attempt == 2) throw;
    }
  }
}

void PgStore::unlock_writer() {
  holds_writer_lock_ = false;
  if (!connection_ || !connection_->is_open()) return;  // a lost session took its lock with it
  pqxx::nontransaction tx(*connection_, "unlock_writer");
  tx.exec_params("SELECT pg_advisory_unlock($1)", kWriterLockKey);
}

std::int64_t PgStore::abort_dead_runs() {
  pqxx::work tx(session(), "abort_dead_runs");
  auto result = tx.exec(
      "UPDATE esim.sync_runs SET status = 'aborted', finished_at = clock_timestamp(), "
      "error = 'the process running this pass stopped before it finished (crash, kill -9 or power loss); "
      "nothing of it was applied' WHERE status = 'running'");
  tx.commit();
  return static_cast<std::int64_t>(result.affected_rows());
}

void PgStore::record_progress(RunId run, std::int64_t packages_seen) {
  pqxx::work tx(session(), "record_progress");
  tx.exec_params("UPDATE esim.sync_runs SET packages_seen = $2 WHERE id = $1 AND status = 'running'", run,
                 packages_seen);
  tx.commit();
}

void PgStore::abort_run(RunId run, const std::string& reason) {
  pqxx::work tx(connection(), "abort_run");
  tx.exec_params("UPDATE esim.sync_runs SET status = 'aborted', finished_at = clock_timestamp(), error = $2 "
                 "WHERE id = $1",
                 run, reason);
  tx.commit();
}

void PgStore::fail_run(RunId run, const std::string& error) {
  // The failure may be the database itself coming back from a restart: give it a few seconds,
  // since an operator reading sync_runs should see why the pass failed.
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work tx(connection(), "fail_run");
      tx.exec_params(
          "UPDATE esim.sync_runs SET status = 'failed', finished_at = clock_timestamp(), error = $2 "
          "WHERE id = $1",
          run, error);
      tx.commit();
      return;
    } catch (const std::exception&) {
      drop_connection();
      if (attempt == 3) throw;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace esim
