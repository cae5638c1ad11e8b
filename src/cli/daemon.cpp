// `esim-sync run`, as a story: load the config; start the metrics endpoint; wait for the
// database and migrate; tell systemd we are ready; then, until SIGTERM, run a pass every
// interval (counted from the previous pass's start), reloading the config on SIGHUP.
#include "cli/daemon.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <random>

#include "api/client_pool.h"
#include "cli/api_wiring.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/metrics.h"
#include "cli/signals.h"
#include "cli/systemd_notify.h"
#include "config/config.h"
#include "store/migrator.h"
#include "store/pg_store.h"
#include "sync/sync_pass.h"
#include "util/cancel.h"
#include "util/duration.h"
#include "util/redact.h"

namespace esim {

namespace {

// Everything a pass needs, built from one configuration; replaced whole on a good SIGHUP.
struct Worker {
  explicit Worker(const Config& c, Metrics& metrics)
      : config(c),
        store(c.database.url, c.database.statement_timeout),
        client(c.api.concurrency, api_settings(c), retry_policy(c), c.api.rate_limit, clock, {},
               [&metrics](long status) { metrics.api_response(status); }) {}
  Config config;
  util::SystemClock clock;
  PgStore store;
  ApiClientPool client;
};

// Waits until the deadline, a stop, or a reload request; keeps the watchdog fed meanwhile.
void wait_until(std::chrono::steady_clock::time_point deadline, bool& reload) {
  while (!util::process_cancel_token().cancelled() && std::chrono::steady_clock::now() < deadline) {
    systemd::watchdog();
    if (take_reload_request()) {
      reload = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string status_line(const PassOutcome& o) {
  if (o.succeeded) {
    return fmt::format("last pass {} succeeded: {} packages, {} status changes, {} new, {} removed", o.run,
                       o.counts.packages_seen, o.counts.status_changes, o.counts.inserted, o.counts.removed);
  }
  if (o.locked_out) return "another esim-sync holds the writer lock; standing by";
  return fmt::format("last pass {} {}: {}", o.run, o.aborted ? "aborted" : "failed", o.error.substr(0, 160));
}

}  // namespace

int command_run(const std::string& config_path) {
  std::optional<Config> loaded = load_and_set_up_logging(config_path);
  if (!loaded) return exit_code::kBadConfig;
  const Config& config = *loaded;

  exit_if_stuck_after_stop(kStopGrace, exit_code::kOk);
  Metrics metrics;
  metrics.set_interval(config.schedule.interval);
  std::unique_ptr<MetricsServer> metrics_server;
  if (!config.metrics.listen.empty()) {
    try {
      metrics_server = std::make_unique<MetricsServer>(config.metrics.listen, metrics);
      spdlog::info("metrics on http://{}/metrics and /healthz", config.metrics.listen);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return exit_code::kBadConfig;
    }
  }

  auto worker = std::make_unique<Worker>(config, metrics);
  std::mt19937_64 random(std::random_device{}());

  // The database may not be up yet (boot order, failover): keep trying, 1 s doubling to 30 s.
  std::chrono::milliseconds retry{1000};
  bool reload = false;
  for (;;) {
    systemd::watchdog();
    try {
      for (const auto& name : worker->store.migrate().applied) spdlog::info("applied migration {}", name);
      break;
    } catch (const MigrationError& e) {
      // An unknown or edited migration does not heal by waiting: exit 4, as `migrate` does.
      spdlog::error("migrations failed: {}", util::redact(e.what(), worker->config.secrets()));
      return exit_code::kDatabase;
    } catch (const std::exception& e) {
      spdlog::error("database not ready ({}); trying again in {} ms",
                    util::redact(e.what(), worker->config.secrets()), retry.count());
      systemd::status("waiting for the database");
    }
    wait_until(std::chrono::steady_clock::now() + retry, reload);
    if (util::process_cancel_token().cancelled()) return exit_code::kOk;
    retry = std::min<std::chrono::milliseconds>(retry * 2, std::chrono::seconds(30));
  }
  systemd::ready();
  spdlog::info("esim-sync running: a pass every {}", util::format_duration(worker->config.schedule.interval));

  while (!util::process_cancel_token().cancelled()) {
    if (reload) {
      reload = false;
      try {
        Config fresh = load_config_file(config_path);
        setup_logging(fresh.logging.level, fresh.logging.format);
        worker = std::make_unique<Worker>(fresh, metrics);
        worker->store.migrate();
        metrics.set_interval(fresh.schedule.interval);
        spdlog::info("configuration reloaded from {}", config_path);
      } catch (const std::exception& e) {
        spdlog::error("configuration reload failed, keeping the previous one: {}",
                      util::redact(e.what(), worker->config.secrets()));
      }
    }

    const auto started = std::chrono::steady_clock::now();
    SyncSettings settings = sync_settings(worker->config, false);
    settings.cancel = &util::process_cancel_token();
    settings.heartbeat = [] { systemd::watchdog(); };
    const long long retries_before = worker->client.retries();
    PassOutcome outcome = SyncPass(worker->client, worker->store, worker->clock, settings).run();
    outcome.retries = worker->client.retries() - retries_before;
    metrics.pass_finished(outcome, std::chrono::steady_clock::now() - started);
    if (outcome.succeeded) {
      try {
        metrics.set_live_packages(worker->store.live_counts());
      } catch (const std::exception&) {
        // Counts for the metrics are a nicety; the pass itself succeeded.
      }
    }
    systemd::status(status_line(outcome));

    // The next pass starts one interval after this one started; a long pass delays it and
    // never overlaps it. Jitter spreads many installations over time.
    auto next = started + worker->config.schedule.interval;
    if (worker->config.schedule.jitter.count() > 0) {
      next += std::chrono::milliseconds(random() % static_cast<std::uint64_t>(worker->config.schedule.jitter.count()));
    }
    wait_until(next, reload);
  }
  systemd::stopping();
  spdlog::info("stop requested; exiting");
  return exit_code::kOk;
}

}  // namespace esim
