#pragma once
// The change feed's writer: after a pass's changes are applied, in the same transaction, the
// events that consumers follow with esim.changes_since, the daily stock per plan, and the
// NOTIFY that wakes them. See docs/bi.md, "Following changes".
#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "store/store.h"

namespace esim::change_feed {

// Writes the events of the packages the pass `run` (stamped `at`) changed, and notifies
// esim_changes if there were any (or if `other_changes`, e.g. templates, were written).
// Returns the number of package events.
std::int64_t record(pqxx::work& tx, const std::string& at, RunId run, std::int64_t other_changes = 0);

}  // namespace esim::change_feed
