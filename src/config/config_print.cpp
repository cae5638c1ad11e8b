// describe_config: the effective configuration as an operator reads it, secrets redacted.
#include <sstream>

#include "config/config.h"
#include "util/duration.h"
#include "util/redact.h"
#include "util/size.h"

namespace esim {

namespace {

std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ", ") + f;
  return out;
}

std::string retention(std::chrono::hours value) {
  return value.count() == 0 ? "off" : std::to_string(value.count() / 24) + "d";
}

}  // namespace

std::string describe_config(const Config& config) {
  std::ostringstream out;
  const std::string key_source =
      config.api.api_key_file.empty() ? "[REDACTED]" : "[REDACTED] (from api_key_file)";
  out << "api:\n"
      << "  base_url: " << util::redact_url_userinfo(config.api.base_url) << "\n"
      << "  api_key: " << key_source << "\n";
  if (!config.api.api_key_file.empty()) out << "  api_key_file: " << config.api.api_key_file << "\n";
  out << "  user_id: " << config.api.user_id << "\n"
      << "  page_size: " << config.api.page_size << "\n"
      << "  timeout: " << util::format_duration(config.api.timeout) << "\n"
      << "  connect_timeout: " << util::format_duration(config.api.connect_timeout) << "\n"
      << "  low_speed_limit: " << util::format_size(config.api.low_speed_limit) << "\n"
      << "  low_speed_time: " << util::format_duration(config.api.low_speed_time) << "\n"
      << "  max_response_size: " << util::format_size(config.api.max_response_size) << "\n"
      << "  max_retries: " << config.api.max_retries << "\n"
      << "  max_retry_wait: " << util::format_duration(config.api.max_retry_wait) << "\n"
      << "  allow_insecure_http: " << (config.api.allow_insecure_http ? "true" : "false") << "\n"
      << "  concurrency: " << config.api.concurrency << "\n"
      << "  rate_limit: " << config.api.rate_limit << "\n"
      << "database:\n"
      << "  url: " << util::redact_connection_string(config.database.url) << "\n"
      << "  statement_timeout: " << util::format_duration(config.database.statement_timeout) << "\n"
      << "sync:\n"
      << "  max_removed_fraction: " << config.sync.max_removed_fraction << "\n"
      << "  max_repaging: " << config.sync.max_repaging << "\n"
      << "  max_removal_lookups: " << config.sync.max_removal_lookups << "\n"
      << "  volatile_fields: [" << join_fields(config.sync.volatile_fields) << "]\n"
      << "  usage_retention: " << retention(config.sync.usage_retention) << "\n"
      << "  run_retention: " << retention(config.sync.run_retention) << "\n"
      << "schedule:\n"
      << "  interval: " << util::format_duration(config.schedule.interval) << "\n"
      << "  jitter: " << util::format_duration(config.schedule.jitter) << "\n"
      << "logging:\n"
      << "  level: " << config.logging.level << "\n"
      << "  format: " << config.logging.format << "\n"
      << "metrics:\n"
      << "  listen: " << (config.metrics.listen.empty() ? "(off)" : config.metrics.listen) << "\n";
  return util::redact(out.str(), config.secrets());
}

}  // namespace esim
