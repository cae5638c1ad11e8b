#pragma once
// One walk of the plan catalogue applied inside the pass's apply transaction: templates new,
// changed, back or proven gone (two complete walks that lack it), their versions, their change
// events, and the counts on the run row.
#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "domain/package_template.h"
#include "store/store.h"

namespace esim {

// Returns the change events written.
std::int64_t apply_templates(pqxx::work& tx, const std::string& at, RunId run, const TemplateListing& listing);

}  // namespace esim
