#pragma once
// The commands of the esim-sync binary, each returning its exit code (cli/exit_codes.h).
#include <optional>
#include <string>

#include "config/config.h"

namespace esim {

// connect: also reach the database and one page of the API, and report both.
int command_check_config(const std::string& config_path, bool connect = false);
// check-config --keys: the configuration schema, a key a line.
int command_config_keys();
int command_migrate(const std::string& config_path);
// allow_mass_removal: apply removals even above sync.max_removed_fraction (an operator's call).
int command_once(const std::string& config_path, bool allow_mass_removal = false, bool adopt_account = false);
// The config, or nullopt after printing every problem (exit with kBadConfig).
std::optional<Config> load_or_explain(const std::string& path, ConfigScope scope = ConfigScope::kEverything);
// The same, then logging set up as the config says and its warnings logged.
std::optional<Config> load_and_set_up_logging(const std::string& path, ConfigScope scope = ConfigScope::kEverything);

}  // namespace esim
