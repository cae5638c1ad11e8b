#pragma once
// The commands of the esim-sync binary, each returning its exit code (cli/exit_codes.h).
#include <optional>
#include <string>

#include "config/config.h"

namespace esim {

int command_check_config(const std::string& config_path);
int command_migrate(const std::string& config_path);
// allow_mass_removal: apply removals even above sync.max_removed_fraction (an operator's call).
int command_once(const std::string& config_path, bool allow_mass_removal = false);
// Shared by the commands.
struct SyncSettings;
struct Config;
SyncSettings sync_settings(const Config& config, bool allow_mass_removal);
// The config, or nullopt after printing every problem (exit with kBadConfig).
std::optional<Config> load_or_explain(const std::string& path);
// The same, then logging set up as the config says and its warnings logged.
std::optional<Config> load_and_set_up_logging(const std::string& path);

}  // namespace esim
