#include "store/history_upkeep.h"

#include <spdlog/spdlog.h>

#include "store/history_sql.h"
#include "util/time_format.h"

namespace esim {

void prepare_history(pqxx::connection& connection, TimePoint pass_time, const HistoryPolicy& policy) {
  pqxx::work tx(connection, "prepare_history");
  // Dropping an old partition waits for readers of the series; a long BI query must not hold
  // the pass. The partitions are made a month ahead and dropped late: the next pass tries again.
  tx.exec("SET LOCAL lock_timeout = '2s'");
  const auto days = [](std::chrono::hours h) { return static_cast<int>(h.count() / 24); };
  const auto dropped = tx.exec_params1(history_sql::kPrepareHistory, util::format_utc_iso8601(pass_time),
                                       days(policy.usage_retention), days(policy.run_retention))[0];
  tx.commit();
  if (!dropped.is_null() && !dropped.as<std::string>().empty()) {
    spdlog::info("usage retention ({} days): dropped {}", days(policy.usage_retention), dropped.as<std::string>());
  }
}

std::string volatile_fields_array(const HistoryPolicy& policy) {
  std::string out = "{";
  for (const std::string& field : policy.volatile_fields) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : field) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace esim
