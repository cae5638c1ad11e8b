#include "store/change_feed.h"

#include "store/change_feed_sql.h"
#include "store/template_apply.h"

namespace esim::change_feed {

std::int64_t record(pqxx::work& tx, const std::string& at, RunId run,
                    const std::optional<TemplateListing>& templates) {
  std::int64_t events = templates ? apply_templates(tx, at, run, *templates) : 0;
  events += tx.exec_params1(change_feed_sql::kRecordPackageChanges, at, run)[0].as<std::int64_t>();
  if (events > 0) tx.exec_params(change_feed_sql::kNotify, run);
  return events;
}

}  // namespace esim::change_feed
