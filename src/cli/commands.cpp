#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "api/client_pool.h"
#include "cli/api_wiring.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "config/config.h"
#include "store/pg_store.h"
#include "sync/sync_pass.h"
#include "util/redact.h"

namespace esim {

namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void request_stop(int) { g_stop_requested = true; }

// Loads the config or explains every problem; nullopt means "exit with kBadConfig".
std::optional<Config> load_or_explain(const std::string& path) {
  try {
    return load_config_file(path);
  } catch (const ConfigError& e) {
    std::cerr << "esim-sync: " << e.what() << "\n";
    return std::nullopt;
  }
}

SyncSettings sync_settings(const Config& config, bool allow_mass_removal = false) {
  SyncSettings s;
  s.page_size = config.api.page_size;
  s.secrets = config.secrets();
  s.interval = std::chrono::duration_cast<std::chrono::seconds>(config.schedule.interval);
  s.concurrency = config.api.concurrency;
  s.max_repaging = config.sync.max_repaging;
  s.max_removed_fraction = config.sync.max_removed_fraction;
  s.allow_mass_removal = allow_mass_removal;
  return s;
}

bool migrate_or_log(PgStore& store, const Config& config) {
  try {
    MigrateResult result = store.migrate();
    for (const auto& name : result.applied) spdlog::info("applied migration {}", name);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("migrations failed: {}", util::redact(e.what(), config.secrets()));
    return false;
  }
}

// Sleeps until the deadline or a stop request, whichever comes first.
void sleep_until_or_stop(std::chrono::steady_clock::time_point deadline) {
  while (!g_stop_requested && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

int command_check_config(const std::string& config_path) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  std::cout << "# " << config_path << ": valid\n" << describe_config(*config);
  return exit_code::kOk;
}

int command_migrate(const std::string& config_path) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  setup_logging(config->logging.level);
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);
  PgStore store(config->database.url, config->database.statement_timeout);
  if (!migrate_or_log(store, *config)) return exit_code::kDatabase;
  spdlog::info("schema is up to date");
  return exit_code::kOk;
}

int command_once(const std::string& config_path, bool allow_mass_removal) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  setup_logging(config->logging.level);
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);
  PgStore store(config->database.url, config->database.statement_timeout);
  if (!migrate_or_log(store, *config)) return exit_code::kDatabase;

  util::SystemClock clock;
  ApiClientPool client(config->api.concurrency, api_settings(*config), retry_policy(*config), config->api.rate_limit,
                       clock);
  SyncPass pass(client, store, clock, sync_settings(*config, allow_mass_removal));
  return pass.run().succeeded ? exit_code::kOk : exit_code::kPassFailed;
}

int command_run(const std::string& config_path) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  setup_logging(config->logging.level);
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);

  PgStore store(config->database.url, config->database.statement_timeout);
  util::SystemClock clock;
  ApiClientPool client(config->api.concurrency, api_settings(*config), retry_policy(*config), config->api.rate_limit,
                       clock);
  SyncPass pass(client, store, clock, sync_settings(*config));

  spdlog::info("esim-sync running: a pass every {}s", config->schedule.interval.count() / 1000);
  bool migrated = false;
  // While the database is not there, try again soon (1 s, doubling to 30 s) rather than a
  // whole interval later; never give up, since systemd would only start us again.
  std::chrono::milliseconds database_retry{1000};
  while (!g_stop_requested) {
    const auto started = std::chrono::steady_clock::now();
    auto next = started + config->schedule.interval;
    if (!migrated) migrated = migrate_or_log(store, *config);
    if (migrated) {
      pass.run();
    } else {
      next = std::min(next, started + database_retry);
      spdlog::info("database not ready; trying again in {} ms", database_retry.count());
      database_retry = std::min<std::chrono::milliseconds>(database_retry * 2, std::chrono::seconds(30));
    }
    sleep_until_or_stop(next);
  }
  spdlog::info("stop requested; exiting");
  return exit_code::kOk;
}

}  // namespace esim
