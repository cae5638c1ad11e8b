#pragma once
// Turns the configuration into the API client's settings; shared by every command that calls
// the API, so `fetch` gets the same limits, retries and secrecy as the daemon.
#include "api/packages_client.h"
#include "api/retrying_transport.h"
#include "config/config.h"

namespace esim {

ApiSettings api_settings(const Config& config);
RetryPolicy retry_policy(const Config& config);

}  // namespace esim
