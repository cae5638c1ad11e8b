#pragma once
// The change feed's writer: after a pass's changes are applied, in the same transaction, the
// events that consumers follow with esim.changes_since, the daily stock per plan, and the
// NOTIFY that wakes them. See docs/bi.md, "Following changes".
#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "domain/package_template.h"
#include "store/store.h"

namespace esim::change_feed {

// Applies the pass's walk of the plan catalogue, if it made one (its events come first), writes
// the events of the packages the pass `run` (stamped `at`) changed, and notifies esim_changes
// if there were any. Returns the number of events.
std::int64_t record(pqxx::work& tx, const std::string& at, RunId run,
                    const std::optional<TemplateListing>& templates = std::nullopt);

}  // namespace esim::change_feed
