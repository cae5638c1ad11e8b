#include "service/service.h"

#include <spdlog/spdlog.h>

#include "service/wiring.h"
#include "util/cancel.h"
#include "util/redact.h"

namespace esim {

namespace {

// Keeps the first few missed passes and counts the rest: an outage of a day at a one-minute
// interval needs no 1,440 rows to be seen.
constexpr std::size_t kMissedPassesKept = 10;

}  // namespace

Service::Service(Config config, Metrics& metrics, Notifier& notifier, ServiceOptions options)
    : config_(std::move(config)),
      metrics_(metrics),
      notifier_(notifier),
      options_(options),
      store_(std::make_shared<PgStore>(config_.database.url, config_.database.statement_timeout)),
      client_(config_.api.concurrency, api_settings(config_), retry_policy(config_), config_.api.rate_limit, clock_,
              {}, [&metrics](long status) { metrics.api_response(status); }) {}

void Service::prepare() {
  const MigrateResult migrated = store_->migrate();
  for (const auto& name : migrated.applied) spdlog::info("applied migration {}", name);
  for (const auto& warning : migrated.warnings) spdlog::warn("{}", warning);
  metrics_.set_database_reached();
  metrics_.set_interval(config_.schedule.interval);
  if (auto last = store_->last_success()) metrics_.set_last_success(*last);
}

PassOutcome Service::run_pass() {
  record_missed_passes();
  SyncSettings settings = sync_settings(config_, options_.allow_mass_removal);
  settings.cancel = &util::process_cancel_token();
  settings.heartbeat = [this] { notifier_.watchdog(); };
  settings.hold_writer_lock = options_.hold_writer_lock;
  settings.adopt_account = options_.adopt_account;
  settings.templates.source = &client_;
  const auto started_at = clock_.now();
  const long long retries_before = client_.retries();
  metrics_.pass_started();
  store_->set_history_policy(history_policy(config_));
  PassOutcome outcome = SyncPass(client_, *store_, clock_, settings).run();
  outcome.retries = client_.retries() - retries_before;
  // The counts first, then the pass's result: whoever sees the pass succeed (/healthz, a
  // scrape) sees the packages it left.
  if (outcome.succeeded()) {
    try {
      metrics_.set_live_packages(store_->live_counts());
    } catch (const std::exception&) {
      // Counts for the metrics are a nicety; the pass itself succeeded.
    }
  }
  metrics_.pass_finished(outcome, outcome.duration);
  if (outcome.result == PassResult::kFailed && outcome.run == 0 && missed_.size() < kMissedPassesKept) {
    missed_.push_back({started_at, outcome.error});
  }
  log_standby(outcome);
  return outcome;
}

void Service::take_over(PassRunner& previous) {
  auto* old = dynamic_cast<Service*>(&previous);
  if (old == nullptr) return;
  if (old->config_.database.url == config_.database.url) {
    // The same database: keep the session that holds the writer lock, so that a standby never
    // finds it free; the session this service opened to migrate goes instead.
    store_ = old->store_;
    store_->set_statement_timeout(config_.database.statement_timeout);
    return;
  }
  // Another database: the old one's leadership is given up now, and this one's taken now, so
  // that neither waits for a session to time out.
  const std::string from = util::redact_connection_string(old->config_.database.url);
  const std::string to = util::redact_connection_string(config_.database.url);
  try {
    old->store_->unlock_writer();
  } catch (const std::exception&) {
    // A broken session released the lock with itself.
  }
  bool writer = false;
  try {
    writer = options_.hold_writer_lock && store_->try_lock_writer();
  } catch (const std::exception&) {
    // The next pass tries again and says why.
  }
  spdlog::warn("configuration reload moves esim-sync from {} to {}: released the writer lock on the first; {}", from,
               to, writer ? "the writer lock on the second is taken" : "the next pass takes the second's writer lock");
}

std::string Service::writer_holder() {
  try {
    return store_->writer_holder();
  } catch (const std::exception&) {
    return "";
  }
}

void Service::record_missed_passes() {
  if (missed_.empty()) return;
  try {
    for (const MissedPass& missed : missed_) store_->record_missed_pass(missed.started_at, missed.error);
    spdlog::info("recorded {} pass(es) that could not reach the database as failed runs", missed_.size());
    missed_.clear();
  } catch (const std::exception&) {
    // Still unreachable: the pass about to run will say so.
  }
}

void Service::log_standby(const PassOutcome& outcome) {
  const bool standby = outcome.result == PassResult::kLockedOut;
  if (standby && !standby_logged_) {
    const std::string holder = writer_holder();
    spdlog::info("standby: {} is the writer; this one takes over within an interval if it goes",
                 holder.empty() ? "another esim-sync" : holder);
  } else if (!standby && standby_logged_) {
    spdlog::info("this esim-sync is the writer now");
  }
  standby_logged_ = standby;
}

}  // namespace esim
