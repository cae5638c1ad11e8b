#include "service/scheduler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/migrator.h"
#include "util/duration.h"
#include "util/redact.h"

namespace esim {

namespace {

std::string status_line(const PassOutcome& o) {
  switch (o.result) {
    case PassResult::kSucceeded:
      return fmt::format("last pass {} succeeded: {} packages, {} status changes, {} new, {} removed{}", o.run,
                         o.counts.packages_seen, o.counts.status_changes, o.counts.inserted, o.counts.removed,
                         o.removals_applied ? "" : "; removals held by the guard");
    case PassResult::kLockedOut: return "standby: another esim-sync is the writer";
    case PassResult::kAborted: return fmt::format("last pass {} aborted", o.run);
    case PassResult::kFailed: break;
  }
  return fmt::format("last pass {} failed: {}", o.run, o.error.substr(0, 160));
}

}  // namespace

Scheduler::Scheduler(const util::Clock& clock, const util::CancelToken& cancel, Notifier& notifier,
                     std::function<bool()> reload_requested, std::uint64_t jitter_seed)
    : clock_(clock), cancel_(cancel), notifier_(notifier), reload_requested_(std::move(reload_requested)),
      random_(jitter_seed) {}

Scheduler::End Scheduler::run(std::unique_ptr<PassRunner> runner, const Build& build, const Install& install) {
  runner_ = std::move(runner);
  build_ = &build;
  install_ = &install;
  // 1. The database may not be up yet (boot order, failover): keep trying.
  End end = End::kStopped;
  if (!wait_for_database(*runner_, end)) return end;
  // 2. Ready: systemd's start returns now.
  notifier_.ready();
  spdlog::info("esim-sync running: a pass every {}", util::format_duration(runner_->config().schedule.interval));
  // 3. A pass every interval, counted from the previous pass's start: a long pass delays the
  //    next one and never overlaps it. Jitter spreads many installations over time.
  while (!cancel_.cancelled()) {
    const auto started = clock_.now();
    PassOutcome outcome = runner_->run_pass();
    notifier_.status(status_line(outcome));
    // The database mirrors another account than the configuration names: waiting cannot heal
    // that, and a pass every interval would only say it again. End, as `once` does (the unit
    // does not restart on that exit code); the pass wrote nothing.
    if (outcome.error_kind == FailureKind::kAccount) {
      notifier_.stopping();
      return End::kWrongAccount;
    }
    // The interval in force, also one that a reload during the wait brings.
    const auto spread = jitter();
    wait_until([&] { return started + runner_->config().schedule.interval + spread; });
  }
  // 4. Stopped (SIGTERM): a pass in flight was abandoned and recorded aborted.
  notifier_.stopping();
  spdlog::info("stop requested; exiting");
  return End::kStopped;
}

bool Scheduler::wait_for_database(PassRunner& runner, End& end) {
  for (std::chrono::milliseconds retry = kFirstRetry;; retry = std::min(retry * 2, kLongestRetry)) {
    notifier_.watchdog();
    try {
      runner.prepare();
      return true;
    } catch (const MigrationError& e) {
      // An unknown or edited migration does not heal by waiting: end, as `migrate` does.
      spdlog::error("migrations failed: {}", util::redact(e.what(), runner.config().secrets()));
      end = End::kMigrationsFailed;
      return false;
    } catch (const std::exception& e) {
      spdlog::error("database not ready ({}); trying again in {} ms", util::redact(e.what(), runner.config().secrets()),
                    retry.count());
      notifier_.status("waiting for the database");
    }
    const auto until = clock_.now() + retry;
    wait_until([until] { return until; });
    if (cancel_.cancelled()) return false;
  }
}

void Scheduler::wait_until(const std::function<util::Clock::time_point()>& deadline) {
  while (!cancel_.cancelled()) {
    notifier_.watchdog();
    // A reload takes effect between passes; it starts one only when its interval already ran out.
    if (reload_requested_ && reload_requested_()) reload();
    const auto now = clock_.now();
    const auto until = deadline();
    if (now >= until) return;
    clock_.sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now), std::chrono::milliseconds(100)));
  }
}

// Build, check, swap: the new configuration replaces the old only once it connected and
// migrated and its side effects applied; on any failure everything old stays.
void Scheduler::reload() {
  try {
    std::unique_ptr<PassRunner> fresh = (*build_)();
    fresh->prepare();
    (*install_)(*fresh, *runner_);
    fresh->take_over(*runner_);  // the writer lock: kept, or handed over, never dropped in between
    runner_ = std::move(fresh);
    spdlog::info("configuration reloaded; the next pass follows the schedule (a pass every {}, from the last one's start)",
                 util::format_duration(runner_->config().schedule.interval));
    if (report_reload_) report_reload_(true, runner_->config());
  } catch (const std::exception& e) {
    spdlog::error("configuration reload failed, keeping the previous one: {}",
                  util::redact(e.what(), runner_->config().secrets()));
    if (report_reload_) report_reload_(false, runner_->config());
  }
}

std::chrono::milliseconds Scheduler::jitter() {
  const auto most = runner_->config().schedule.jitter.count();
  if (most <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(random_() % static_cast<std::uint64_t>(most));
}

}  // namespace esim
