#include "store/template_apply.h"

#include "store/template_sql.h"

namespace esim {

std::int64_t apply_templates(pqxx::work& tx, const std::string& at, RunId run, const TemplateListing& listing) {
  // One parameter for the whole walk: a JSON array of the objects as sent (each one a JSON
  // object, as the client checked), so the staging is one set-wise INSERT.
  std::string array = "[";
  for (const PackageTemplate& t : listing.templates) {
    if (array.size() > 1) array += ',';
    array += t.raw_json;
  }
  array += ']';
  tx.exec(template_sql::kStage);
  tx.exec_params(template_sql::kFillStaging, array);
  std::int64_t events = tx.exec_params1(template_sql::kApplyChanges, at, run)[0].as<std::int64_t>();
  // A walk that may have missed some (it ended early, or the catalogue moved) proves nothing
  // about what it lacks: only complete walks remove, and only they remember candidates.
  if (listing.complete) events += tx.exec_params1(template_sql::kApplyRemovals, at, run)[0].as<std::int64_t>();
  tx.exec(template_sql::kForgetCandidates);
  if (listing.complete) tx.exec_params(template_sql::kRememberCandidates, at, run);
  const auto seen = tx.exec1("SELECT count(*) FROM esim_template_staging")[0].as<std::int64_t>();
  tx.exec_params(template_sql::kRecordOnRun, run, seen, events);
  return events;
}

}  // namespace esim
