#pragma once
// Before each pass, under the writer lock: the usage series' partitions made ahead of need and
// the retention of what grows with time (history_sql.h, kPrepareHistory).
#include <pqxx/pqxx>

#include "store/history_policy.h"
#include "store/store.h"

namespace esim {

// In a short transaction of its own. Logs the partitions it dropped.
void prepare_history(pqxx::connection& connection, TimePoint pass_time, const HistoryPolicy& policy);

// policy.volatile_fields as a PostgreSQL text[] literal, each element quoted: the apply's
// parameter (a value, never SQL text).
std::string volatile_fields_array(const HistoryPolicy& policy);

}  // namespace esim
