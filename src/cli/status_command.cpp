#include "cli/status_command.h"

#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/config.h"
#include "store/pg_store.h"
#include "util/escape.h"
#include "util/redact.h"

namespace esim {

namespace {

// Statuses and errors hold what the API sent: escaped, so each stays on its line.
std::string cell(const pqxx::field& f) { return f.is_null() ? "-" : util::escape_control(f.c_str()); }

}  // namespace

int command_status(const std::string& config_path, int passes) {
  std::optional<Config> loaded = load_or_explain(config_path);
  if (!loaded) return exit_code::kBadConfig;
  const Config& config = *loaded;
  try {
    PgStore store(config.database.url, config.database.statement_timeout);
    pqxx::work tx(store.connection(), "status");
    if (tx.exec("SELECT to_regclass('esim.sync_runs') IS NULL")[0][0].as<bool>()) {
      std::cout << "esim-sync has not run against this database yet (run `esim-sync migrate` or `once`).\n";
      return exit_code::kOk;
    }
    std::cout << "database: " << util::redact_connection_string(config.database.url) << "\n";

    pqxx::row health = tx.exec1(
        "SELECT stale, to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
        "date_trunc('second', staleness)::text, latest_status FROM esim.sync_health");
    const bool stale = health[0].as<bool>();
    std::cout << fmt::format("mirror:   {} (last success {} UTC, {} ago; latest pass {})\n",
                             stale ? "STALE" : "fresh", cell(health[1]), cell(health[2]), cell(health[3]));

    std::int64_t live = 0;
    std::string by_status;
    for (const auto& row : tx.exec("SELECT status, packages FROM esim.package_status_counts ORDER BY packages DESC")) {
      live += row[1].as<std::int64_t>();
      by_status += fmt::format("  {} {}", cell(row[0]), row[1].c_str());
    }
    std::cout << fmt::format("packages: {} live:{}\n", live, by_status);
    const auto deferred = tx.exec1("SELECT count(*) FROM esim.removal_candidates")[0].as<std::int64_t>();
    std::cout << fmt::format("removals deferred: {}{}\n\n", deferred,
                             deferred == 0 ? "" : " (missed by the last walk, no lookup could prove them gone; "
                                                  "removed if the next walk lacks them too)");

    std::cout << fmt::format("{:>6}  {:<9}  {:<19}  {:>8}  {:>8}  {:>6}  {:>6}  {:>7}  {:>7}  {}\n", "PASS", "STATUS",
                             "STARTED (UTC)", "TOOK", "SEEN", "NEW", "UPD", "REMOVED", "CHANGES", "NOTE");
    for (const auto& r : tx.exec_params(
             "SELECT id, status, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
             "round(extract(epoch FROM finished_at - started_at)::numeric, 1) || 's', packages_seen, inserted, "
             "updated, removed, status_changes, left(coalesce(error, warning, ''), 80) "
             "FROM esim.sync_runs ORDER BY id DESC LIMIT $1",
             passes)) {
      std::cout << fmt::format("{:>6}  {:<9}  {:<19}  {:>8}  {:>8}  {:>6}  {:>6}  {:>7}  {:>7}  {}\n", cell(r[0]),
                               cell(r[1]), cell(r[2]), cell(r[3]), cell(r[4]), cell(r[5]), cell(r[6]), cell(r[7]),
                               cell(r[8]), cell(r[9]));
    }
    return exit_code::kOk;
  } catch (const std::exception& e) {
    std::cerr << "esim-sync: " << util::redact(e.what(), config.secrets()) << "\n";
    return exit_code::kDatabase;
  }
}

}  // namespace esim
