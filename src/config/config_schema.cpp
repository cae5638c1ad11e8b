#include "config/config_schema.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include "util/duration.h"
#include "util/redact.h"
#include "util/size.h"

namespace esim {

namespace {

// A ConfigTarget for the member `Member` of the section `Section` of Config.
template <auto Section, auto Member>
ConfigTarget field() {
  using T = std::remove_reference_t<decltype(std::declval<Config&>().*Section.*Member)>;
  return static_cast<ConfigField<T>>([](Config& c) -> T& { return (c.*Section).*Member; });
}

std::string check_level(std::string& level) {
  if (level == "warning") level = "warn";  // syslog's and journalctl's word for it
  for (const char* known : {"trace", "debug", "info", "warn", "error"}) {
    if (level == known) return "";
  }
  return "must be one of trace, debug, info, warn (or warning), error, got \"" + level + "\"";
}

std::string check_format(std::string& format) {
  return format == "text" || format == "json" ? "" : "must be text or json, got \"" + format + "\"";
}

// ":9187" (no host, as Prometheus exporters take it) listens on every IPv4 address.
std::string check_listen(std::string& listen) {
  if (listen.empty()) return "";
  static const std::regex shape(R"(^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(listen, m, shape) || std::stoi(m[2].str()) > 65535) {
    return "must be host:port or :port, e.g. 127.0.0.1:9187 or :9187 (every address), got \"" + listen + "\"";
  }
  if (m[1].length() == 0) listen = "0.0.0.0" + listen;
  return "";
}

// A comma-separated list of top-level package fields: each named once, none that the mirror
// types (a change of those always makes a version). Spaces around the commas are dropped.
std::string check_volatile_fields(std::string& text) {
  const std::vector<std::string> fields = volatile_field_list(text);
  std::string normal;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string& field = fields[i];
    if (field.empty()) return "must be field names separated by commas, got an empty name in \"" + text + "\"";
    if (is_typed_field(field)) return "\"" + field + "\" is a field the mirror types: its changes always make a version";
    if (std::find(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(i), field) != fields.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "\"" + field + "\" is listed twice";
    }
    normal += (normal.empty() ? "" : ",") + field;
  }
  text = normal;
  return "";
}

constexpr long long kSecond = 1000;

std::vector<ConfigKey> make_keys() {
  using C = Config;
  return {
      {"api.base_url", KeyType::kText, field<&C::api, &ApiConfig::base_url>(), 0, 0, false, Shown::kUrl,
       NeededBy::kEveryCommand, nullptr, "the next pass", "The API root; requests go to base_url/packages."},
      {"api.api_key", KeyType::kText, field<&C::api, &ApiConfig::api_key>(), 0, 0, false, Shown::kSecret,
       NeededBy::kApiCommands, nullptr, "the next pass", "The x-api-key header (or api.api_key_file); never shown."},
      {"api.api_key_file", KeyType::kText, field<&C::api, &ApiConfig::api_key_file>(), 0, 0, false,
       Shown::kOnlyWhenSet, NeededBy::kApiCommands, nullptr, "the next pass (the file is read again)",
       "A file holding the API key, instead of api.api_key."},
      {"api.user_id", KeyType::kText, field<&C::api, &ApiConfig::user_id>(), 0, 0, true, Shown::kAsIs,
       NeededBy::kApiCommands, nullptr, "the next pass", "The x-user-id header."},
      {"api.page_size", KeyType::kInteger, field<&C::api, &ApiConfig::page_size>(), 1, 10000, false, Shown::kAsIs,
       NeededBy::kEveryCommand, nullptr, "the next pass", "Packages per request."},
      {"api.timeout", KeyType::kDuration, field<&C::api, &ApiConfig::timeout>(), 1 * kSecond, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "Time allowed for one whole request."},
      {"api.connect_timeout", KeyType::kDuration, field<&C::api, &ApiConfig::connect_timeout>(), 100, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "Time allowed to connect (DNS, TCP, TLS)."},
      {"api.low_speed_limit", KeyType::kSize, field<&C::api, &ApiConfig::low_speed_limit>(), 1, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "A response slower than this many bytes a second for api.low_speed_time is abandoned."},
      {"api.low_speed_time", KeyType::kDuration, field<&C::api, &ApiConfig::low_speed_time>(), 1 * kSecond, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "See api.low_speed_limit."},
      {"api.max_response_size", KeyType::kSize, field<&C::api, &ApiConfig::max_response_size>(), 1024, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "A larger response body fails the pass."},
      {"api.max_retries", KeyType::kInteger, field<&C::api, &ApiConfig::max_retries>(), 0, 20, false, Shown::kAsIs,
       NeededBy::kEveryCommand, nullptr, "the next pass", "Retries of one request after 429, 5xx or a network error."},
      {"api.max_retry_wait", KeyType::kDuration, field<&C::api, &ApiConfig::max_retry_wait>(), 0, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "The most one request waits between retries."},
      {"api.allow_insecure_http", KeyType::kBoolean, field<&C::api, &ApiConfig::allow_insecure_http>(), 0, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass", "Allow http:// to hosts other than loopback."},
      {"api.concurrency", KeyType::kInteger, field<&C::api, &ApiConfig::concurrency>(), 1, 64, false, Shown::kAsIs,
       NeededBy::kEveryCommand, nullptr, "the next pass", "Requests in flight once the first page told the total."},
      {"api.rate_limit", KeyType::kInteger, field<&C::api, &ApiConfig::rate_limit>(), 0, 100000, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "Requests per second to the API, retries included (0: no limit)."},
      {"database.url", KeyType::kText, field<&C::database, &DatabaseConfig::url>(), 0, 0, true,
       Shown::kConnectionString, NeededBy::kEveryCommand, nullptr,
       "the next pass (another database: the writer lock is handed over)", "A libpq connection string or URI."},
      {"database.statement_timeout", KeyType::kDuration, field<&C::database, &DatabaseConfig::statement_timeout>(),
       1 * kSecond, 0, false, Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "Upper bound for any one statement."},
      {"sync.max_removed_fraction", KeyType::kFraction, field<&C::sync, &SyncConfig::max_removed_fraction>(), 0, 0,
       false, Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "A walk lacking more than this share of the live packages removes nothing (the mass-removal guard)."},
      {"sync.max_repaging", KeyType::kInteger, field<&C::sync, &SyncConfig::max_repaging>(), 0, 10, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "More walks when the listing moved and left more candidates than lookups may settle."},
      {"sync.max_removal_lookups", KeyType::kInteger, field<&C::sync, &SyncConfig::max_removal_lookups>(), 0,
       1'000'000, false, Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "Removal candidates looked up by id in one pass."},
      {"sync.volatile_fields", KeyType::kText, field<&C::sync, &SyncConfig::volatile_fields>(), 0, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, check_volatile_fields,
       "the next pass (a changed list makes it compare every changed package once)",
       "Package fields, comma-separated, whose changes alone make no version: the row is updated in place."},
      {"sync.usage_retention", KeyType::kDays, field<&C::sync, &SyncConfig::usage_retention_days>(), 1, 36500, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "Whole months of esim.package_usage and package_usage_daily older than this are dropped (off: never)."},
      {"sync.run_retention", KeyType::kDays, field<&C::sync, &SyncConfig::run_retention_days>(), 1, 36500, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "esim.sync_runs rows older than this are deleted before a pass (off: never)."},
      {"sync.templates_every", KeyType::kInteger, field<&C::sync, &SyncConfig::templates_every>(), 0, 1'000'000,
       false, Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "Walk the plan catalogue (GET /package-templates) every this many passes (0: never)."},
      {"schedule.interval", KeyType::kDuration, field<&C::schedule, &ScheduleConfig::interval>(), 1 * kSecond, 0,
       false, Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass, counted from the last one's start",
       "Time between the starts of two passes of run."},
      {"schedule.jitter", KeyType::kDuration, field<&C::schedule, &ScheduleConfig::jitter>(), 0, 0, false,
       Shown::kAsIs, NeededBy::kEveryCommand, nullptr, "the next pass",
       "A random extra wait of up to this before each pass."},
      {"metrics.listen", KeyType::kText, field<&C::metrics, &MetricsConfig::listen>(), 0, 0, false,
       Shown::kOffWhenEmpty, NeededBy::kEveryCommand, check_listen,
       "at once (bound anew; a failure refuses the reload)", "host:port (or :port) of /metrics and /healthz."},
      {"logging.level", KeyType::kText, field<&C::logging, &LoggingConfig::level>(), 0, 0, false, Shown::kAsIs,
       NeededBy::kEveryCommand, check_level, "at once", "trace, debug, info, warn (or warning) or error."},
      {"logging.format", KeyType::kText, field<&C::logging, &LoggingConfig::format>(), 0, 0, false, Shown::kAsIs,
       NeededBy::kEveryCommand, check_format, "at once", "text, or json (one object a line)."},
  };
}

std::string format_fraction(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = make_keys();
  return keys;
}

const ConfigKey* find_config_key(const std::string& name) {
  for (const ConfigKey& key : config_keys()) {
    if (name == key.name) return &key;
  }
  return nullptr;
}

std::vector<std::string> config_sections() {
  std::vector<std::string> out;
  for (const ConfigKey& key : config_keys()) {
    std::string section(key.name, std::string(key.name).find('.'));
    if (std::find(out.begin(), out.end(), section) == out.end()) out.push_back(section);
  }
  return out;
}

std::string show_value(const ConfigKey& key, const Config& config) {
  Config& c = const_cast<Config&>(config);  // the targets only read here
  return std::visit(
      [&](auto target) -> std::string {
        const auto& value = target(c);
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          switch (key.shown) {
            case Shown::kSecret: return value.empty() ? "" : "[REDACTED]";
            case Shown::kUrl: return util::redact_url_userinfo(value);
            case Shown::kConnectionString: return util::redact_connection_string(value);
            case Shown::kOffWhenEmpty: return value.empty() ? "(off)" : value;
            case Shown::kAsIs:
            case Shown::kOnlyWhenSet: return value;
          }
          return value;
        } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
          return util::format_duration(value);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          return util::format_size(value);
        } else if constexpr (std::is_same_v<T, bool>) {
          return value ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return format_fraction(value);
        } else if constexpr (std::is_same_v<T, int>) {
          if (key.type == KeyType::kDays) return value == 0 ? "off" : std::to_string(value) + "d";
          return std::to_string(value);
        } else {
          return std::to_string(value);
        }
      },
      key.target);
}

std::vector<std::string> volatile_field_list(const std::string& text) {
  std::vector<std::string> out;
  if (text.find_first_not_of(" \t") == std::string::npos) return out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = text.find(',', from);
    std::string field = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    const std::size_t first = field.find_first_not_of(" \t"), last = field.find_last_not_of(" \t");
    out.push_back(first == std::string::npos ? "" : field.substr(first, last - first + 1));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

std::string default_value(const ConfigKey& key) {
  static const Config defaults;
  return show_value(key, defaults);
}

}  // namespace esim
