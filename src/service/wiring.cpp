#include "service/wiring.h"

#include "config/base_url.h"

namespace esim {

ApiSettings api_settings(const Config& config) {
  ApiSettings settings{config.api.base_url, config.api.api_key, config.api.user_id, {}};
  settings.limits.timeout = config.api.timeout;
  settings.limits.connect_timeout = config.api.connect_timeout;
  settings.limits.low_speed_limit = config.api.low_speed_limit;
  settings.limits.low_speed_time = config.api.low_speed_time;
  settings.limits.max_response_size = config.api.max_response_size;
  settings.volatile_fields = volatile_field_list(config.sync.volatile_fields);
  return settings;
}

RetryPolicy retry_policy(const Config& config) {
  RetryPolicy policy;
  policy.max_retries = config.api.max_retries;
  policy.max_total_wait = config.api.max_retry_wait;
  return policy;
}

SyncSettings sync_settings(const Config& config, bool allow_mass_removal) {
  SyncSettings s;
  s.page_size = config.api.page_size;
  s.secrets = config.secrets();
  s.interval = std::chrono::duration_cast<std::chrono::seconds>(config.schedule.interval);
  s.concurrency = config.api.concurrency;
  s.max_repaging = config.sync.max_repaging;
  s.max_removal_lookups = config.sync.max_removal_lookups;
  s.max_removed_fraction = config.sync.max_removed_fraction;
  s.allow_mass_removal = allow_mass_removal;
  s.templates.page_size = config.api.page_size;
  s.templates.every = config.sync.templates_every;
  const BaseUrlParts url = base_url_parts(config.api.base_url);
  s.account = MirroredAccount{url.host, url.path, config.api.user_id};
  return s;
}

HistoryPolicy history_policy(const Config& config) {
  return HistoryPolicy{volatile_field_list(config.sync.volatile_fields),
                       std::chrono::hours(24 * config.sync.usage_retention_days),
                       std::chrono::hours(24 * config.sync.run_retention_days)};
}

}  // namespace esim
