#pragma once
// What `esim-sync status` shows, as the store reads it; the command line formats it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esim {

// One row of esim.sync_runs, typed. A count is empty when the run recorded none (it failed, or
// was aborted, before counting).
struct RunSummary {
  std::int64_t id = 0;
  std::string status;                      // running, succeeded, failed, aborted
  std::int64_t started_ms = 0;             // epoch milliseconds
  std::chrono::milliseconds took{0};       // so far, while running
  std::optional<std::int64_t> packages_seen, inserted, updated, removed, status_changes;
  std::string note;                        // the error, else the warning, whole ("" when none)
};

struct StatusReport {
  bool stale = false;
  bool removals_held = false;  // the last succeeded pass held its removals back (the guard)
  std::string last_success_at, staleness, latest_status;
  std::vector<std::pair<std::string, std::int64_t>> live_by_status;  // most first
  std::int64_t removals_deferred = 0;
  std::int64_t lookups_inconclusive = 0;  // of the last succeeded pass
  std::string writer;  // who holds the writer lock now ("" when nobody)
  std::vector<RunSummary> runs;  // newest first
};

}  // namespace esim
