#include "cli/status_command.h"

#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/config.h"
#include "store/pg_store.h"
#include "util/escape.h"
#include "util/redact.h"
#include "util/time_format.h"
#include "util/utf8.h"

namespace esim {

namespace {

// Statuses and errors hold what the API sent: escaped, so each stays on its line.
std::string cell(const std::string& text) { return util::escape_control(text); }

constexpr std::size_t kNoteBytes = 83;  // 80 of the error or warning, and "..."

void print(const StatusReport& r, const Config& config) {
  std::cout << "database: " << util::redact_connection_string(config.database.url) << "\n";
  std::cout << fmt::format("mirror:   {}{} (last success {} UTC, {} ago; latest pass {})\n",
                           r.stale ? "STALE" : "fresh", r.removals_held ? ", WARNING: removals held by the guard" : "",
                           r.last_success_at, r.staleness, r.latest_status);
  std::cout << "writer:   " << (r.writer.empty() ? "none right now" : cell(r.writer)) << "\n";
  std::int64_t live = 0;
  std::string by_status;
  for (const auto& [status, count] : r.live_by_status) {
    live += count;
    by_status += fmt::format("  {} {}", cell(status), count);
  }
  std::cout << fmt::format("packages: {} live:{}\n", live, by_status);
  std::cout << fmt::format("removals deferred: {}{}\n", r.removals_deferred,
                           r.removals_deferred == 0 ? "" : " (missed by the last walk, no lookup could prove them gone; "
                                                           "removed if two complete walks lack them)");
  std::cout << fmt::format("lookups that proved nothing: {}{}\n\n", r.lookups_inconclusive,
                           r.lookups_inconclusive == 0 ? "" : " (in the last pass: the server did not find a package "
                                                               "the walk had just seen, or a lookup failed)");
  const char* row = "{:>6}  {:<9}  {:<19}  {:>8}  {:>8}  {:>6}  {:>6}  {:>7}  {:>7}  {}\n";
  std::cout << fmt::format(row, "PASS", "STATUS", "STARTED (UTC)", "TOOK", "SEEN", "NEW", "UPD", "REMOVED", "CHANGES",
                           "NOTE");
  const auto count = [](const std::optional<std::int64_t>& n) { return n ? std::to_string(*n) : "-"; };
  for (const RunSummary& run : r.runs) {
    std::cout << fmt::format(row, run.id, cell(run.status), util::format_utc_seconds(run.started_ms),
                             fmt::format("{:.1f}s", static_cast<double>(run.took.count()) / 1000.0),
                             count(run.packages_seen), count(run.inserted), count(run.updated), count(run.removed),
                             count(run.status_changes), cell(util::shortened(run.note, kNoteBytes)));
  }
}

}  // namespace

int command_status(const std::string& config_path, int passes) {
  // The database is all `status` reads: it needs no API secrets.
  std::optional<Config> loaded = load_or_explain(config_path, ConfigScope::kDatabaseOnly);
  if (!loaded) return exit_code::kBadConfig;
  const Config& config = *loaded;
  try {
    PgStore store(config.database.url, config.database.statement_timeout);
    std::optional<StatusReport> report = store.status_report(passes);
    if (!report) {
      std::cout << "esim-sync has not run against this database yet (run `esim-sync migrate` or `once`).\n";
      return exit_code::kOk;
    }
    print(*report, config);
    return exit_code::kOk;
  } catch (const std::exception& e) {
    std::cerr << "esim-sync: " << util::redact(e.what(), config.secrets()) << "\n";
    return exit_code::kDatabase;
  }
}

}  // namespace esim
