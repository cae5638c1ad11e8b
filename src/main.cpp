// esim-sync: mirrors Betatel's eSIM package listing into PostgreSQL. This file only reads the
// command line; the work is in the commands (src/cli/commands.cpp).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/run_command.h"
#include "service/signals.h"
#include "cli/status_command.h"
#include "cli/fetch_command.h"
#include "cli/exit_codes.h"
#include "esim_sync_version.h"
#include "util/edit_distance.h"

namespace {

// The first word that is neither an option nor an option's value: the command. CLI11 would say
// "A subcommand is required" of an unknown one; this names it and the commands there are.
// Returns false (after saying so) when it is not one of them.
bool command_is_known(int argc, char** argv, const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(command->get_name());
  }
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "-c" || word == "--config") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    for (const auto& name : names) {
      if (name == word) return true;
    }
    std::string list, closest;
    std::size_t best = 3;  // at most two edits away
    for (const auto& name : names) {
      list += (list.empty() ? "" : ", ") + name;
      if (const std::size_t d = util::edit_distance(word, name); d < best) best = d, closest = name;
    }
    std::cerr << "esim-sync: unknown command '" << word << "'"
              << (closest.empty() ? "" : "; did you mean '" + closest + "'?") << "\n"
              << "The commands are " << list << "; see esim-sync --help.\n";
    return false;
  }
  return true;  // no command at all: CLI11 says that one
}

}  // namespace

int main(int argc, char** argv) {
  esim::start_signal_thread();  // before any other thread, so that all of them leave signals to it
  CLI::App app{"esim-sync: mirror Betatel eSIM packages into PostgreSQL, with a status audit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("esim-sync ") + esim::kVersion);
  // ESIM_SYNC_CONFIG, when set, replaces the default path (a container, a second instance).
  const char* from_environment = std::getenv("ESIM_SYNC_CONFIG");
  std::string config_path = from_environment != nullptr && *from_environment != '\0' ? from_environment
                                                                                      : "/etc/esim-sync/config.yaml";

  // --config before the command works too (esim-sync --config FILE once).
  app.add_option("-c,--config", config_path, "YAML configuration file (also after the command)")
      ->capture_default_str();
  auto add = [&](const char* name, const char* help) {
    CLI::App* command = app.add_subcommand(name, help);
    command->add_option("-c,--config", config_path, "YAML configuration file")
        ->capture_default_str();
    return command;
  };
  CLI::App* once = add("once", "Apply pending migrations, run one sync pass, exit 0 on success");
  bool allow_mass_removal = false;
  once->add_flag("--allow-mass-removal", allow_mass_removal,
                 "Apply removals even when more than sync.max_removed_fraction of the live packages went");
  bool adopt_account = false;
  once->add_flag("--adopt-account", adopt_account,
                 "The mirror moved to the configured account (api.base_url, api.user_id): record it instead of "
                 "refusing (exit 7)");
  CLI::App* run = add("run", "Run a sync pass every schedule.interval until SIGINT or SIGTERM");
  CLI::App* migrate = add("migrate", "Apply pending migrations and exit");
  CLI::App* check = add("check-config", "Validate the configuration and print it, secrets redacted");
  bool check_connect = false;
  check->add_flag("--connect", check_connect, "Also reach the database and one page of the API, and report both");
  bool check_keys = false;
  check->add_flag("--keys", check_keys,
                  "List every key a configuration may set (type, default, when a reload applies it), read no file");
  CLI::App* status = add("status", "Show the last passes and the live packages by status, from the database");
  int status_passes = 10;
  status->add_option("-n,--passes", status_passes, "How many passes to list")->check(CLI::Range(1, 1000))
      ->capture_default_str();
  CLI::App* fetch = add("fetch", "List packages straight from the API (one page, or --all)");
  esim::FetchOptions fetch_options;
  fetch->add_option("--status", fetch_options.filter.status, "Only this status (NOT_ACTIVE, ACTIVE, SUSPENDED, TERMINATED)");
  fetch->add_option("--sim", fetch_options.filter.sim, "Only this SIM (ICCID)");
  fetch->add_option("--inventory", fetch_options.filter.inventory, "Only this inventory id");
  fetch->add_option("--package-template", fetch_options.filter.package_template, "Only this package template id");
  fetch->add_option("--offset", fetch_options.offset, "Skip this many packages")->check(CLI::NonNegativeNumber);
  fetch->add_option("--count", fetch_options.count, "Packages per request (default api.page_size)")
      ->check(CLI::Range(1, 10000));
  fetch->add_flag("--all", fetch_options.all,
                  "Page through every package from --offset on (api.concurrency requests in flight, printed in "
                  "listing order; progress on stderr when it is a terminal)");
  fetch->add_option("--format", fetch_options.format, "jsonl (the API's objects) or table")
      ->check(CLI::IsMember({"jsonl", "table"}))
      ->capture_default_str();
  std::string exit_codes = "Exit codes:";
  for (const auto& [code, meaning] : esim::exit_code::kMeanings) exit_codes += "\n  " + std::to_string(code) + " " + meaning;
  app.footer(exit_codes);

  if (!command_is_known(argc, argv, app)) return esim::exit_code::kUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? esim::exit_code::kOk : esim::exit_code::kUsage;
  }
  if (*once) return esim::command_once(config_path, allow_mass_removal, adopt_account);
  if (*run) return esim::command_run(config_path);
  if (*migrate) return esim::command_migrate(config_path);
  if (*check && check_keys) return esim::command_config_keys();
  if (*check) return esim::command_check_config(config_path, check_connect);
  if (*fetch) return esim::command_fetch(config_path, fetch_options);
  if (*status) return esim::command_status(config_path, status_passes);
  return esim::exit_code::kUsage;
}
