#include "cli/api_wiring.h"

namespace esim {

ApiSettings api_settings(const Config& config) {
  ApiSettings settings{config.api.base_url, config.api.api_key, config.api.user_id, {}};
  settings.limits.timeout = config.api.timeout;
  settings.limits.connect_timeout = config.api.connect_timeout;
  settings.limits.low_speed_limit = config.api.low_speed_limit;
  settings.limits.low_speed_time = config.api.low_speed_time;
  settings.limits.max_response_size = config.api.max_response_size;
  return settings;
}

RetryPolicy retry_policy(const Config& config) {
  RetryPolicy policy;
  policy.max_retries = config.api.max_retries;
  policy.max_total_wait = config.api.max_retry_wait;
  return policy;
}

}  // namespace esim
