// `esim-sync run`: wires the real parts into the scheduler (src/service/scheduler.cpp, where
// the loop's story is told) and maps its end to an exit code. Also what a reload changes
// outside the service: logging and the metrics listener.
#include "cli/run_command.h"

#include <spdlog/spdlog.h>

#include <random>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "service/metrics.h"
#include "service/scheduler.h"
#include "service/service.h"
#include "service/signals.h"
#include "util/cancel.h"

namespace esim {

int command_run(const std::string& config_path) {
  arm_stop_deadline(kStopGrace, exit_code::kOk);
  std::optional<Config> loaded = load_and_set_up_logging(config_path);
  if (!loaded) return exit_code::kBadConfig;

  Metrics metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  std::string listening_on = loaded->metrics.listen;
  if (!listening_on.empty()) {
    try {
      metrics_server = std::make_unique<MetricsServer>(listening_on, metrics);
      spdlog::info("metrics on http://{}/metrics and /healthz", listening_on);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return exit_code::kBadConfig;
    }
  }

  SystemdNotifier notifier;
  ServiceOptions options;
  options.hold_writer_lock = true;  // the leadership of a standby pair: a second `run` waits
  auto build = [&]() -> std::unique_ptr<PassRunner> {
    return std::make_unique<Service>(load_config_file(config_path), metrics, notifier, options);
  };
  // A reload's side effects, applied only once the new service connected: a changed listener
  // is bound first (a failure refuses the reload), then logging follows the new file.
  auto install = [&](PassRunner& fresh, const PassRunner&) {
    const Config& config = fresh.config();
    if (config.metrics.listen != listening_on) {
      std::unique_ptr<MetricsServer> rebound;
      if (!config.metrics.listen.empty()) rebound = std::make_unique<MetricsServer>(config.metrics.listen, metrics);
      metrics_server = std::move(rebound);
      listening_on = config.metrics.listen;
      spdlog::info("metrics now on {}", listening_on.empty() ? "nothing (metrics.listen unset)" : listening_on);
    }
    setup_logging(config.logging.level, config.logging.format);
    for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
  };

  util::SystemClock clock;
  Scheduler scheduler(clock, util::process_cancel_token(), notifier, take_reload_request, std::random_device{}());
  // The interval in force again after a failed reload too (the new service's prepare set its own).
  scheduler.on_reload([&metrics](bool succeeded, const Config& in_force) {
    metrics.reload_finished(succeeded);
    metrics.set_interval(in_force.schedule.interval);
  });
  std::unique_ptr<PassRunner> first = std::make_unique<Service>(*loaded, metrics, notifier, options);
  return exit_code::of(scheduler.run(std::move(first), build, install));
}

}  // namespace esim
