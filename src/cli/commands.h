#pragma once
// The commands of the esim-sync binary, each returning its exit code (cli/exit_codes.h).
#include <string>

namespace esim {

int command_check_config(const std::string& config_path);
int command_migrate(const std::string& config_path);
// allow_mass_removal: apply removals even above sync.max_removed_fraction (an operator's call).
int command_once(const std::string& config_path, bool allow_mass_removal = false);
// Shared by `once` and `run`.
struct SyncSettings;
struct Config;
SyncSettings sync_settings(const Config& config, bool allow_mass_removal);

}  // namespace esim
