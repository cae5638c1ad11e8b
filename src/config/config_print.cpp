// describe_config: the effective configuration as an operator reads it, secrets redacted.
#include <sstream>

#include "config/config.h"
#include "util/duration.h"
#include "util/redact.h"

namespace esim {

std::string describe_config(const Config& config) {
  std::ostringstream out;
  const std::string key_source =
      config.api.api_key_file.empty() ? "[REDACTED]" : "[REDACTED] (from api_key_file)";
  out << "api:\n"
      << "  base_url: " << config.api.base_url << "\n"
      << "  api_key: " << key_source << "\n";
  if (!config.api.api_key_file.empty()) out << "  api_key_file: " << config.api.api_key_file << "\n";
  out << "  user_id: " << config.api.user_id << "\n"
      << "  page_size: " << config.api.page_size << "\n"
      << "  timeout: " << util::format_duration(config.api.timeout) << "\n"
      << "database:\n"
      << "  url: " << util::redact_connection_string(config.database.url) << "\n"
      << "schedule:\n"
      << "  interval: " << util::format_duration(config.schedule.interval) << "\n"
      << "logging:\n"
      << "  level: " << config.logging.level << "\n";
  return util::redact(out.str(), config.secrets());
}

}  // namespace esim
