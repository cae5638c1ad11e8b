#include "domain/package.h"

namespace esim {

bool is_documented_status(const std::string& status) {
  return status == "NOT_ACTIVE" || status == "ACTIVE" || status == "SUSPENDED" || status == "TERMINATED";
}

}  // namespace esim
