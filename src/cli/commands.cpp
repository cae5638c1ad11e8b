#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "api/client_pool.h"
#include "service/service.h"
#include "service/wiring.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "service/signals.h"
#include "config/config.h"
#include "store/pg_store.h"
#include "sync/sync_pass.h"
#include "util/cancel.h"
#include "util/conninfo.h"
#include "util/redact.h"

namespace esim {

namespace {

}  // namespace

std::optional<Config> load_or_explain(const std::string& path, ConfigScope scope) {
  try {
    return load_config_file(path, util::process_environment(), scope);
  } catch (const ConfigError& e) {
    std::cerr << "esim-sync: " << e.what() << "\n";
    return std::nullopt;
  }
}

std::optional<Config> load_and_set_up_logging(const std::string& path, ConfigScope scope) {
  std::optional<Config> config = load_or_explain(path, scope);
  if (!config) return config;
  setup_logging(config->logging.level, config->logging.format);
  for (const auto& warning : config->warnings) spdlog::warn("{}", warning);
  return config;
}


namespace {

bool migrate_or_log(PgStore& store, const Config& config) {
  try {
    MigrateResult result = store.migrate();
    for (const auto& name : result.applied) spdlog::info("applied migration {}", name);
    for (const auto& warning : result.warnings) spdlog::warn("{}", warning);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("migrations failed: {}", util::libpq_message(util::redact(e.what(), config.secrets())));
    return false;
  }
}


}  // namespace

int command_config_keys() {
  std::cout << describe_config_keys();
  return exit_code::kOk;
}

int command_check_config(const std::string& config_path, bool connect) {
  std::optional<Config> config = load_or_explain(config_path);
  if (!config) return exit_code::kBadConfig;
  for (const auto& warning : config->warnings) std::cerr << "esim-sync: warning: " << warning << "\n";
  std::cout << "# " << config_path << ": valid\n" << describe_config(*config);
  if (!connect) return exit_code::kOk;
  // --connect: reach both ends as a pass would, and say what each answered.
  int code = exit_code::kOk;
  try {
    PgStore store(config->database.url, config->database.statement_timeout);
    store.require_utf8();
    // Asked before anything is printed: one verdict, whichever it is.
    const bool migrated = static_cast<bool>(store.status_report(1));
    std::cout << "# database: reachable; " << (migrated ? "esim-sync's schema is there" : "not migrated yet") << "\n";
  } catch (const MigrationError& e) {  // reachable, but no place for the mirror (not UTF-8)
    std::cout << "# database: NOT usable: " << util::redact(e.what(), config->secrets()) << "\n";
    code = exit_code::kDatabase;
  } catch (const std::exception& e) {
    std::cout << "# database: NOT reachable: " << util::redact(e.what(), config->secrets()) << "\n";
    code = exit_code::kDatabase;
  }
  try {
    util::SystemClock clock;
    ApiClientPool client(1, api_settings(*config), retry_policy(*config), config->api.rate_limit, clock);
    Page page = client.fetch_page(0, 1);
    std::cout << "# api: reachable; the listing reports " << page.total << " packages\n";
  } catch (const std::exception& e) {
    std::cout << "# api: NOT reachable: " << util::redact(e.what(), config->secrets()) << "\n";
    if (code == exit_code::kOk) code = exit_code::kPassFailed;
  }
  return code;
}

int command_migrate(const std::string& config_path) {
  std::optional<Config> config = load_and_set_up_logging(config_path, ConfigScope::kDatabaseOnly);
  if (!config) return exit_code::kBadConfig;
  PgStore store(config->database.url, config->database.statement_timeout);
  if (!migrate_or_log(store, *config)) return exit_code::kDatabase;
  spdlog::info("schema is up to date");
  return exit_code::kOk;
}

int command_once(const std::string& config_path, bool allow_mass_removal, bool adopt_account) {
  std::optional<Config> config = load_and_set_up_logging(config_path);
  if (!config) return exit_code::kBadConfig;
  Metrics metrics;  // nobody scrapes a single pass; the service counts into it all the same
  SystemdNotifier notifier;
  ServiceOptions options;
  options.allow_mass_removal = allow_mass_removal;
  options.adopt_account = adopt_account;
  Service service(*config, metrics, notifier, options);
  try {
    service.prepare();
  } catch (const std::exception& e) {
    spdlog::error("database not ready: {}", util::libpq_message(util::redact(e.what(), config->secrets())));
    return exit_code::kDatabase;
  }
  arm_stop_deadline(kStopGrace, exit_code::kInterrupted);
  const PassOutcome outcome = service.run_pass();
  if (outcome.result == PassResult::kLockedOut) {
    const std::string holder = service.writer_holder();
    std::cerr << "esim-sync: another esim-sync is syncing this database right now ("
              << (holder.empty() ? "it holds the writer lock" : holder) << "); nothing done\n";
  }
  return exit_code::of(outcome);
}

}  // namespace esim
