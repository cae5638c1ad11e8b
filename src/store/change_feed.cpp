#include "store/change_feed.h"

#include "store/change_feed_sql.h"

namespace esim::change_feed {

std::int64_t record(pqxx::work& tx, const std::string& at, RunId run, std::int64_t other_changes) {
  const auto events = tx.exec_params1(change_feed_sql::kRecordPackageChanges, at, run)[0].as<std::int64_t>();
  if (events + other_changes > 0) tx.exec_params(change_feed_sql::kNotify, run);
  return events;
}

}  // namespace esim::change_feed
