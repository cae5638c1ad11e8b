#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "api/client_pool.h"
#include "cli/api_wiring.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli/signals.h"
#include "config/config.h"
#include "store/pg_store.h"
#include "sync/sync_pass.h"
#include "util/cancel.h"
#include "util/redact.h"

namespace esim {

namespace {

}  // namespace

std::optional<Config> load_or_explain(const std::string& path) {
  try {
    return load_config_file(path);
  } catch (const ConfigError& e) {
    std::cerr << "esim-sync: " << e.what() << "\n";
    return std::nullopt;
  }
}

std::optional<Config> load_and_set_up_logging(const std::string& path) {
  std::optional<Config> config = load_or_explain(path);
  if (!config) return config;
  setup_logging(config->logging.level, config->logging.format);
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);
  return config;
}

SyncSettings sync_settings(const Config& config, bool allow_mass_removal) {
  SyncSettings s;
  s.page_size = config.api.page_size;
  s.secrets = config.secrets();
  s.interval = std::chrono::duration_cast<std::chrono::seconds>(config.schedule.interval);
  s.concurrency = config.api.concurrency;
  s.max_repaging = config.sync.max_repaging;
  s.max_removal_lookups = config.sync.max_removal_lookups;
  s.max_removed_fraction = config.sync.max_removed_fraction;
  s.allow_mass_removal = allow_mass_removal;
  return s;
}

namespace {

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


}  // namespace

int command_check_config(const std::string& config_path) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  for (const auto& warning : config->warnings) std::cerr << "esim-sync: warning: " << warning << "\n";
  std::cout << "# " << config_path << ": valid\n" << describe_config(*config);
  return exit_code::kOk;
}

int command_migrate(const std::string& config_path) {
  std::optional<Config> config = load_and_set_up_logging(config_path);
  if (!config) return exit_code::kBadConfig;
  PgStore store(config->database.url, config->database.statement_timeout);
  if (!migrate_or_log(store, *config)) return exit_code::kDatabase;
  spdlog::info("schema is up to date");
  return exit_code::kOk;
}

int command_once(const std::string& config_path, bool allow_mass_removal) {
  std::optional<Config> config = load_and_set_up_logging(config_path);
  if (!config) return exit_code::kBadConfig;
  PgStore store(config->database.url, config->database.statement_timeout);
  if (!migrate_or_log(store, *config)) return exit_code::kDatabase;

  util::SystemClock clock;
  ApiClientPool client(config->api.concurrency, api_settings(*config), retry_policy(*config), config->api.rate_limit,
                       clock);
  SyncSettings settings = sync_settings(*config, allow_mass_removal);
  settings.cancel = &util::process_cancel_token();
  exit_if_stuck_after_stop(kStopGrace, exit_code::kInterrupted);
  PassOutcome outcome = SyncPass(client, store, clock, settings).run();
  if (outcome.locked_out) {
    std::cerr << "esim-sync: another esim-sync is syncing this database right now (it holds the writer lock); "
                 "nothing done\n";
    return exit_code::kLockedOut;
  }
  if (outcome.aborted) return exit_code::kInterrupted;  // stopped on request; nothing applied
  return outcome.succeeded ? exit_code::kOk : exit_code::kPassFailed;
}

}  // namespace esim
