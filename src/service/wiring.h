#pragma once
// Turns the configuration into each part's settings; shared by every command, so `fetch` gets
// the same limits, retries and secrecy as the daemon, and `once` the same rules as `run`.
#include "api/packages_client.h"
#include "api/retrying_transport.h"
#include "config/config.h"
#include "store/history_policy.h"
#include "sync/sync_pass.h"

namespace esim {

ApiSettings api_settings(const Config& config);
RetryPolicy retry_policy(const Config& config);
SyncSettings sync_settings(const Config& config, bool allow_mass_removal);
HistoryPolicy history_policy(const Config& config);

}  // namespace esim
