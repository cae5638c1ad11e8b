#pragma once
// The YAML configuration: what it holds and how a file becomes one (validated, ${VAR}s expanded).
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/package.h"
#include "util/env_expand.h"

namespace esim {

struct ApiConfig {
  std::string base_url = "https://esim.betatel.com/api/v1/esim";
  std::string api_key;       // secret: never logged, printed or stored
  std::string api_key_file;  // where api_key was read from, when it came from a file
  std::string user_id;
  int page_size = 100;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};          // one whole request
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // A response slower than low_speed_limit bytes/s for low_speed_time is abandoned.
  std::uint64_t low_speed_limit = 1024;
  std::chrono::milliseconds low_speed_time{std::chrono::seconds(15)};
  std::uint64_t max_response_size = 64ull << 20;  // a larger body fails the pass
  int max_retries = 5;                            // per request, for 429, 5xx and network errors
  std::chrono::milliseconds max_retry_wait{std::chrono::minutes(2)};  // all waits of one request
  bool allow_insecure_http = false;               // http:// to a non-loopback host
  int concurrency = 4;                            // requests in flight once total is known
  int rate_limit = 0;                             // requests per second, all told (0: none)
};

struct DatabaseConfig {
  std::string url;  // any libpq connection string or URI; may hold a password
  std::chrono::milliseconds statement_timeout{std::chrono::minutes(5)};
};

struct SyncConfig {
  // A pass that would mark more than this share of the live packages removed applies no
  // removals (an API that suddenly lists nothing must not empty the dashboards).
  double max_removed_fraction = 0.2;
  // How many times a pass pages the listing again when it moved under the pager and left
  // more removal candidates than lookups may settle.
  int max_repaging = 2;
  // At most this many removal candidates are checked by a lookup of their SIM in one pass;
  // the rest are removed only if the next walk lacks them too.
  int max_removal_lookups = 1000;

  // Top-level fields of the API's package whose changes alone make no version, transition or
  // package_changes row: the current row takes their latest values in place. Comma-separated
  // (volatile_field_list splits it); never a typed field. Default: the usage counters.
  std::string volatile_fields = default_volatile_fields();
  // Whole months of esim.package_usage (and its daily rollup) older than this many days are
  // dropped (0, "off": kept for ever).
  int usage_retention_days = 400;
  // esim.sync_runs rows that started longer ago than this many days are deleted (0: for ever).
  int run_retention_days = 400;

  static std::string default_volatile_fields() {
    std::string out;
    for (const std::string& field : usage_counter_fields()) out += (out.empty() ? "" : ",") + field;
    return out;
  }
  // The plan catalogue is walked with every this many passes (by run id; 0: never): a request
  // per page of templates.
  int templates_every = 1;
};

// sync.volatile_fields as a list ("" gives none).
std::vector<std::string> volatile_field_list(const std::string& text);

struct ScheduleConfig {
  std::chrono::milliseconds interval{std::chrono::minutes(15)};
  // A random extra wait of up to this much before each pass, so that many installations do
  // not all call the API at the same moment.
  std::chrono::milliseconds jitter{0};
};

struct LoggingConfig {
  std::string level = "info";
  std::string format = "text";  // text, or json (one object a line, for log shippers)
};

struct MetricsConfig {
  std::string listen;  // host:port of /metrics and /healthz; empty: off
};

struct Config {
  ApiConfig api;
  DatabaseConfig database;
  ScheduleConfig schedule;
  LoggingConfig logging;
  SyncConfig sync;
  MetricsConfig metrics;
  // Not errors, but worth an operator's attention (a world-readable file holding the API key).
  std::vector<std::string> warnings;

  // The values that must never leave the process in clear text.
  std::vector<std::string> secrets() const;
};

// Thrown with every problem found, each naming the file, line and key.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// What a command needs of the file. `status` and `migrate` only talk to the database, so they
// run without the API's secrets (an unset ${BETATEL_API_KEY}, an unreadable api_key_file).
enum class ConfigScope { kEverything, kDatabaseOnly };

// source_name is how messages name the file ("config.yaml"). Reads no file: api.api_key_file
// stays a path, its key unread (load_config_file reads it).
Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const util::EnvLookup& env = util::process_environment(),
                    ConfigScope scope = ConfigScope::kEverything);
// parse_config of the file, then what the file system says: api.api_key_file's key read, and
// warnings about secrets in files that others can read.
Config load_config_file(const std::string& path,
                        const util::EnvLookup& env = util::process_environment(),
                        ConfigScope scope = ConfigScope::kEverything);

// The effective configuration as YAML, with secrets redacted (for check-config).
std::string describe_config(const Config& config);
// Every key the file may set, a line each (key, type, default, required, when a reload applies
// it, meaning), tab-separated: `check-config --keys`.
std::string describe_config_keys();

}  // namespace esim
