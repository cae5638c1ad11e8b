#pragma once
// One configuration's worth of esim-sync: the store, the API clients, the clock, and the pass
// they run together. Built whole from a Config; a reload builds another and swaps it in.
#include <memory>
#include <string>
#include <vector>

#include "api/client_pool.h"
#include "config/config.h"
#include "service/metrics.h"
#include "service/notifier.h"
#include "service/scheduler.h"
#include "store/pg_store.h"
#include "util/clock.h"

namespace esim {

struct ServiceOptions {
  bool allow_mass_removal = false;  // `once --allow-mass-removal`
  bool adopt_account = false;       // `once --adopt-account`
  // `run`: keep the writer lock between passes, so a second `run` stands by until this one goes.
  bool hold_writer_lock = false;
};

class Service final : public PassRunner {
 public:
  Service(Config config, Metrics& metrics, Notifier& notifier, ServiceOptions options);

  // Connects, migrates, and reads the last success from the database into the metrics.
  void prepare() override;
  PassOutcome run_pass() override;
  const Config& config() const override { return config_; }
  void take_over(PassRunner& previous) override;

  // Who holds the writer lock now ("" when nobody), for a locked-out `once` and the standby log.
  std::string writer_holder();

 private:
  // A pass that never reached the database left no run row; it gets one once it is back.
  struct MissedPass {
    util::Clock::time_point started_at;
    std::string error;
  };
  void record_missed_passes();
  void log_standby(const PassOutcome& outcome);

  Config config_;
  Metrics& metrics_;
  Notifier& notifier_;
  ServiceOptions options_;
  util::SystemClock clock_;
  // Shared so that a reload to the same database keeps the session (and the writer lock).
  std::shared_ptr<PgStore> store_;
  ApiClientPool client_;
  std::vector<MissedPass> missed_;
  bool standby_logged_ = false;
};

}  // namespace esim
