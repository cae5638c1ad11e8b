#pragma once
// Store over PostgreSQL (libpqxx 6.4): staging by COPY, set-wise diff, one transaction a pass.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "store/history_policy.h"
#include "store/migrator.h"
#include "store/status_report.h"
#include "store/store.h"
#include "util/cancel.h"

namespace esim {

// The database could not be reached or refused us. The message names the host and database,
// never the password.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PgStore final : public Store {
 public:
  // Connects lazily, on first use, and again at the start of a pass after the connection was
  // lost (never in the middle of one: a new session would hold neither the staging nor the
  // writer lock). statement_timeout bounds every statement (0: the server's default). When
  // `cancel` is cancelled (SIGTERM), the running query is cancelled through libpq.
  explicit PgStore(std::string conninfo,
                   std::chrono::milliseconds statement_timeout = std::chrono::milliseconds(0),
                   util::CancelToken* cancel = &util::process_cancel_token());
  ~PgStore() override;

  RunId start_run(TimePoint started_at, std::chrono::seconds interval) override;
  std::unique_ptr<PassStaging> open_pass(RunId run) override;
  void fail_run(RunId run, const std::string& error) override;
  bool try_lock_writer() override;
  void unlock_writer() override;
  std::int64_t abort_dead_runs() override;
  void abort_run(RunId run, const std::string& reason) override;
  void bind_account(const MirroredAccount& account, bool adopt) override;  // pg_mirrored_account.cpp
  TimePoint pass_time(TimePoint local) override;

  MigrateResult migrate();
  void require_utf8();  // MigrationError naming the encoding and the fix, unless UTF-8
  // A reload that keeps the session: the new statement_timeout applies to it from now on.
  void set_statement_timeout(std::chrono::milliseconds timeout);
  // What the passes keep of the history, and for how long (from the next pass on).
  void set_history_policy(HistoryPolicy policy) { history_ = std::move(policy); }
  // Live packages by status, for metrics and `esim-sync status`.
  std::map<std::string, std::int64_t> live_counts();
  // The read side for operators (pg_store_reads.cpp). status_report is nullopt before the
  // first migration.
  std::optional<StatusReport> status_report(int passes);
  std::optional<TimePoint> last_success();
  std::string writer_holder();  // "" when nobody holds the writer lock
  // A pass that could not reach the database, recorded as failed once it is back.
  void record_missed_pass(TimePoint started_at, const std::string& error);

 private:
  friend struct PgStoreProbe;  // tests reach the session through it (tests/db)
  static long long writer_lock_key();
  static std::string application_name();  // "esim-sync host=... pid=..."
  pqxx::connection& connection();
  // The pass's own session: the one that holds the writer lock. Fails if it was lost.
  pqxx::connection& session();
  void drop_connection();
  // What a round trip says of the session: libpq cannot know that the server ended it
  // (idle_session_timeout, a restart) or that it now serves reads only (after a failover).
  enum class SessionState { kWritable, kReadOnly, kGone };
  SessionState probe_session();
  // After a connection lost at the apply's COMMIT: the run's status read by a session of its
  // own ("" when the database cannot be asked).
  std::string run_status_after_loss(RunId run);

  std::string conninfo_;
  std::chrono::milliseconds statement_timeout_;
  std::unique_ptr<pqxx::connection> connection_;
  // Guards connection_ against the cancel hook, which runs on the signal thread.
  std::mutex connection_mutex_;
  util::CancelToken* cancel_;
  util::CancelToken::HookId cancel_hook_ = 0;
  bool holds_writer_lock_ = false;
  std::optional<std::uint64_t> bytes_at_start_;  // TCP's count when the run started
  std::optional<std::int64_t> bytes_sent_since_start();  // taken by this pass (and so to be checked at its apply)
  bool clock_skew_told_ = false;    // the local clock's distance from the database's, said once
  HistoryPolicy history_;
};

}  // namespace esim
