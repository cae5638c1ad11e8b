#pragma once
// What `esim-sync status` shows, as the store reads it: plain text cells, NULL as "-".
#include <cstdint>
#include <string>
#include <vector>

namespace esim {

struct StatusReport {
  bool stale = false;
  bool removals_held = false;  // the last succeeded pass held its removals back (the guard)
  std::string last_success_at, staleness, latest_status;
  std::vector<std::pair<std::string, std::int64_t>> live_by_status;  // most first
  std::int64_t removals_deferred = 0;
  std::int64_t lookups_inconclusive = 0;  // of the last succeeded pass
  std::string writer;  // who holds the writer lock now ("" when nobody)
  // id, status, started, took, seen, new, updated, removed, changes, note; newest first.
  std::vector<std::vector<std::string>> runs;
};

}  // namespace esim
