#include "domain/package.h"

namespace esim {

bool is_documented_status(const std::string& status) {
  return status == "NOT_ACTIVE" || status == "ACTIVE" || status == "SUSPENDED" || status == "TERMINATED";
}

const std::vector<std::string>& usage_counter_fields() {
  static const std::vector<std::string> fields = {"data_usage_remaining", "voice_usage_remaining",
                                                  "sms_usage_remaining"};
  return fields;
}

bool is_typed_field(const std::string& field) {
  return field == "id" || field == "sim" || field == "package_template" || field == "status" ||
         field == "created_date" || field == "activated_date" || field == "expiry_date";
}

}  // namespace esim
