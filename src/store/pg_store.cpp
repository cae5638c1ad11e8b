#include "store/pg_store.h"

#include "store/history_upkeep.h"

#include <unistd.h>

#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

#include "store/pg_pass_staging.h"
#include "store/writer_lock.h"
#include "util/socket_traffic.h"

#include "util/conninfo.h"
#include "util/copy_text.h"
#include "util/escape.h"
#include "util/redact.h"
#include "util/time_format.h"

namespace esim {

namespace {


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
      // The planner's default assumes index probes read from disk. The mirror is read through
      // the cache in practice, and the apply's few thousand changed rows are found faster by
      // their primary key than by a scan of a million (measured: 50 ms against 300 ms).
      setup.exec("SET random_page_cost = 1.1");
      if (statement_timeout_.count() > 0) {
        setup.exec_params("SELECT set_config('statement_timeout', $1, false)",
                          std::to_string(statement_timeout_.count()) + "ms");
      }
    } catch (const pqxx::broken_connection& e) {
      drop_connection();
      // The URL as the user wrote it (not the keepalives added above), libpq's text on one
      // line, and which password file was read and why it gave nothing (issue 20).
      const std::string written = util::without_connection_defaults(conninfo_, kConnectionDefaults);
      throw DatabaseError("cannot connect to PostgreSQL at " + util::redact_connection_string(written) + ": " +
                          util::libpq_message(e.what()) +
                          util::explain_password_failure(written, e.what(), util::process_environment()));
    }
  }
  return *connection_;
}

MigrateResult PgStore::migrate() { return esim::migrate(connection()); }

void PgStore::set_statement_timeout(std::chrono::milliseconds timeout) {
  if (timeout == statement_timeout_) return;
  statement_timeout_ = timeout;
  if (!connection_) return;  // a new session sets it as it starts
  try {
    pqxx::nontransaction tx(*connection_, "statement_timeout");
    if (timeout.count() > 0) {
      tx.exec_params("SELECT set_config('statement_timeout', $1, false)", std::to_string(timeout.count()) + "ms");
    } else {
      tx.exec("RESET statement_timeout");  // back to the server's default
    }
  } catch (const std::exception&) {
    drop_connection();  // a broken session: the next pass starts a new one, with the new timeout
  }
}

void PgStore::require_utf8() { esim::require_utf8(connection()); }

std::map<std::string, std::int64_t> PgStore::live_counts() {
  pqxx::nontransaction tx(connection(), "live_counts");
  std::map<std::string, std::int64_t> out;
  for (const auto& row : tx.exec("SELECT status, count(*) FROM esim.packages WHERE removed_at IS NULL GROUP BY status")) {
    out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  }
  return out;
}

RunId PgStore::start_run(TimePoint started_at, std::chrono::seconds interval) {
  bytes_at_start_ = util::tcp_bytes_sent(session().sock());
  prepare_history(session(), started_at, history_);  // the partition the pass writes to, first
  pqxx::work tx(session(), "start_run");
  RunId run = tx.exec_params1(
                    "INSERT INTO esim.sync_runs (started_at, status, interval_seconds) "
                    "VALUES ($1::timestamptz, 'running', $2) RETURNING id",
                    util::format_utc_iso8601(started_at), static_cast<long long>(interval.count()))[0]
                  .as<RunId>();
  tx.commit();
  return run;
}

std::unique_ptr<PassStaging> PgStore::open_pass(RunId run) {
  return std::make_unique<PgPassStaging>(
      PgPassContext{session(), run, holds_writer_lock_, [this](RunId lost) { return run_status_after_loss(lost); },
                    volatile_fields_array(history_), [this] { return bytes_sent_since_start(); }});
}

std::optional<std::int64_t> PgStore::bytes_sent_since_start() {
  const auto now = util::tcp_bytes_sent(session().sock());
  if (!now || !bytes_at_start_ || *now < *bytes_at_start_) return std::nullopt;  // another session since
  return static_cast<std::int64_t>(*now - *bytes_at_start_);
}

std::string PgStore::run_status_after_loss(RunId run) {
  // A session of its own: the pass's is broken, and its transaction object still refers to it.
  // The database may be failing over: give it a few seconds.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    try {
      pqxx::connection fresh(conninfo_);
      pqxx::nontransaction tx(fresh, "run_status_after_loss");
      const pqxx::result row = tx.exec_params("SELECT status FROM esim.sync_runs WHERE id = $1", run);
      return row.empty() ? "" : row[0][0].as<std::string>();
    } catch (const std::exception& e) {
      spdlog::warn("pass {}: cannot read the run to learn whether its commit went through (attempt {} of 3): {}", run,
                   attempt, e.what());
      if (attempt < 3) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  return "";
}

TimePoint PgStore::pass_time(TimePoint local) {
  using std::chrono::microseconds;
  // The last pass's start: the newest run, and the newest applied one (a missed pass is
  // recorded late, with an earlier start). Both by index, so a pass pays two probes.
  pqxx::nontransaction tx(session(), "pass_time");
  const pqxx::row r = tx.exec1(
      "SELECT (extract(epoch FROM greatest("
      "  (SELECT started_at FROM esim.sync_runs ORDER BY id DESC LIMIT 1),"
      "  (SELECT started_at FROM esim.sync_runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1))) * 1000000)::bigint,"
      " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");
  const TimePoint database_now(microseconds(r[1].as<std::int64_t>()));
  if (!clock_skew_told_ && (local - database_now > std::chrono::seconds(5) ||
                            database_now - local > std::chrono::seconds(5))) {
    clock_skew_told_ = true;
    spdlog::warn("the local clock is {} s off the database's (NTP?); passes are stamped no earlier than the last one",
                 std::chrono::duration_cast<std::chrono::seconds>(local - database_now).count());
  }
  if (r[0].is_null()) return local;
  const TimePoint after_last = TimePoint(microseconds(r[0].as<std::int64_t>())) + std::chrono::milliseconds(1);
  return std::max(local, after_last);
}

long long PgStore::writer_lock_key() { return kWriterLockKey; }

std::string PgStore::application_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  // PostgreSQL keeps 63 bytes of it.
  return ("esim-sync host=" + std::string(host)).substr(0, 48) + " pid=" + std::to_string(getpid());
}

PgStore::SessionState PgStore::probe_session() {
  try {
    pqxx::nontransaction tx(*connection_, "probe_session");
    const bool read_only =
        tx.exec1("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")[0].as<bool>();
    return read_only ? SessionState::kReadOnly : SessionState::kWritable;
  } catch (const std::exception&) {
    return SessionState::kGone;
  }
}

bool PgStore::try_lock_writer() {
  // The first statement of a pass. A session that died since the last pass (and its lock with
  // it), or that serves reads only, is replaced before the pass rather than failing it.
  if (!connection_ || probe_session() != SessionState::kWritable) {
    drop_connection();
    connection();  // throws DatabaseError when it cannot connect
    if (const SessionState state = probe_session(); state != SessionState::kWritable) {
      drop_connection();
      throw DatabaseError(
          "the PostgreSQL server at " + util::redact_connection_string(conninfo_) +
          (state == SessionState::kReadOnly
               ? " is read-only (a standby, or default_transaction_read_only); with several hosts in "
                 "database.url, add target_session_attrs=read-write so that esim-sync finds the primary"
               : " ended the new session at once"));
    }
  }
  if (holds_writer_lock_) return true;  // since an earlier pass (`run`), on this same session
  pqxx::nontransaction tx(*connection_, "lock_writer");
  holds_writer_lock_ = tx.exec_params1("SELECT pg_try_advisory_lock($1)", kWriterLockKey)[0].as<bool>();
  return holds_writer_lock_;
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

void PgStore::abort_run(RunId run, const std::string& reason) {
  // The stop that aborted the pass also sent the server a cancel request (the hook above). It
  // travels on a connection of its own and may arrive only now, cancelling this very UPDATE
  // (SQLSTATE 57014) instead of the pass's statement: the hook sends one, so once more suffices.
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work tx(connection(), "abort_run");
      tx.exec_params("UPDATE esim.sync_runs SET status = 'aborted', finished_at = clock_timestamp(), error = $2 "
                     "WHERE id = $1 AND status = 'running'",
                     run, util::valid_utf8(reason));
      tx.commit();
      return;
    } catch (const pqxx::sql_error& e) {
      if (attempt >= 3 || e.sqlstate() != "57014") throw;
    }
  }
}

void PgStore::fail_run(RunId run, const std::string& error) {
  // The failure may be the database itself coming back from a restart: give it a few seconds,
  // since an operator reading sync_runs should see why the pass failed.
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work tx(connection(), "fail_run");
      // A run that is no longer 'running' was finished by its own commit, whose answer was lost:
      // the row tells the truth, and a failure recorded over it would not.
      const auto recorded = tx.exec_params(
          "UPDATE esim.sync_runs SET status = 'failed', finished_at = clock_timestamp(), error = $2 "
          "WHERE id = $1 AND status = 'running'",
          run, util::valid_utf8(error));  // whatever the error holds, the row says why
      tx.commit();
      if (recorded.affected_rows() == 0) {
        spdlog::warn("pass {}: not recorded as failed: the run is no longer 'running' (it was finished after all)", run);
      }
      return;
    } catch (const std::exception&) {
      drop_connection();
      if (attempt == 3) throw;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace esim
