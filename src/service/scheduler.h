#pragma once
// The service loop, as a story: wait for the database (backing off), tell the supervisor we
// are ready, then run a pass every interval until stopped, reloading the configuration when
// asked. Time, stopping, the supervisor and the passes themselves are seams, so every rule
// here is unit-tested with fakes (tests/unit/scheduler_test.cpp).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>

#include "config/config.h"
#include "service/notifier.h"
#include "sync/sync_pass.h"
#include "util/cancel.h"
#include "util/clock.h"

namespace esim {

// What the scheduler drives: one configuration's passes. Service is the real one.
class PassRunner {
 public:
  virtual ~PassRunner() = default;
  // Connects and migrates. Throws MigrationError when waiting cannot help (exit 4), anything
  // else while the database is not there yet.
  virtual void prepare() = 0;
  virtual PassOutcome run_pass() = 0;
  virtual const Config& config() const = 0;
  // A reload: this runner, prepared, replaces `previous`. It keeps what must outlive the swap
  // (the session that holds the writer lock) or hands it over explicitly. Does not throw.
  virtual void take_over(PassRunner& previous) { (void)previous; }
};

class Scheduler {
 public:
  // Builds a runner from the configuration file as it is now; throws on a bad file.
  using Build = std::function<std::unique_ptr<PassRunner>()>;
  // Called with a reloaded runner that connected, before it replaces the old one: applies what
  // the new configuration changes outside the runner (logging, the metrics listener). Throws to
  // refuse the reload.
  using Install = std::function<void(PassRunner& fresh, const PassRunner& old)>;

  Scheduler(const util::Clock& clock, const util::CancelToken& cancel, Notifier& notifier,
            std::function<bool()> reload_requested, std::uint64_t jitter_seed);

  // Why run() returned; the command line turns it into an exit code (cli/exit_codes).
  enum class End {
    kStopped,           // SIGTERM or SIGINT (or stopped while waiting for the database)
    kMigrationsFailed,  // the database holds migrations this binary does not know, or edited ones
    kWrongAccount,      // the database mirrors another account than the configuration names
  };
  // Runs until stopped, or until waiting cannot help.
  End run(std::unique_ptr<PassRunner> runner, const Build& build, const Install& install);
  // Told each reload's result (true: applied) and the configuration in force after it, for the
  // metrics.
  using ReloadReport = std::function<void(bool succeeded, const Config& in_force)>;
  void on_reload(ReloadReport report) { report_reload_ = std::move(report); }

  // The backoff while the database is missing: 1 s, doubling, at most 30 s.
  static constexpr std::chrono::milliseconds kFirstRetry{1000};
  static constexpr std::chrono::milliseconds kLongestRetry{30000};

 private:
  // False when run() must end: stopped, or migrations failed (`end` says which).
  bool wait_for_database(PassRunner& runner, End& end);
  // Waits until `deadline()` (or a stop), feeding the watchdog and taking reload requests. The
  // deadline is asked again after each check, so a reload that changes it counts at once.
  void wait_until(const std::function<util::Clock::time_point()>& deadline);
  void reload();
  std::chrono::milliseconds jitter();

  const util::Clock& clock_;
  const util::CancelToken& cancel_;
  Notifier& notifier_;
  std::function<bool()> reload_requested_;
  std::mt19937_64 random_;
  std::unique_ptr<PassRunner> runner_;
  const Build* build_ = nullptr;
  const Install* install_ = nullptr;
  ReloadReport report_reload_;
};

}  // namespace esim
