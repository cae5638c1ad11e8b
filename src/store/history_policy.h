#pragma once
// What the store keeps of the history, and for how long (sync.volatile_fields,
// sync.usage_retention, sync.run_retention). The defaults are the configuration's.
#include <chrono>
#include <string>
#include <vector>

#include "domain/package.h"

namespace esim {

struct HistoryPolicy {
  // Top-level fields whose changes alone make no version: the current row is updated in place.
  std::vector<std::string> volatile_fields = usage_counter_fields();
  std::chrono::hours usage_retention{24 * 400};  // whole months of esim.package_usage; 0: for ever
  std::chrono::hours run_retention{24 * 400};    // esim.sync_runs rows; 0: for ever
};

}  // namespace esim
