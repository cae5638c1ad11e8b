#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sys/stat.h>
#include <functional>
#include <map>
#include <sstream>

#include "config/base_url.h"
#include "util/duration.h"
#include "util/redact.h"
#include "util/size.h"
#include "util/edit_distance.h"

namespace esim {

namespace {

// "unknown key", and the nearest known key when one is at most two edits away.
template <typename Map>
std::string unknown_key(const std::string& key, const std::string& prefix, const Map& known) {
  std::string closest;
  std::size_t best = 3;
  for (const auto& entry : known) {
    const std::size_t d = util::edit_distance(key, entry.first);
    if (d < best) best = d, closest = entry.first;
  }
  return closest.empty() ? "unknown key" : "unknown key; did you mean " + prefix + closest + "?";
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out = "invalid configuration:";
  for (const auto& line : lines) out += "\n  " + line;
  return out;
}

// Walks the YAML tree section by section, collecting every problem instead of stopping at
// the first, so an operator fixes a file in one round.
class ConfigReader {
 public:
  ConfigReader(std::string source, const util::EnvLookup& env) : source_(std::move(source)), env_(env) {}

  void problem(const YAML::Node& at, const std::string& key, const std::string& message) {
    std::string where = source_;
    if (at.IsDefined() && at.Mark().line >= 0) where += ":" + std::to_string(at.Mark().line + 1);
    problems_.push_back(where + ": " + key + ": " + message);
  }

  // A section handler takes (key path, value node) for each known key.
  using Field = std::function<void(const std::string& key, const YAML::Node& value)>;

  void section(const YAML::Node& root, const std::string& name,
               const std::map<std::string, Field>& fields) {
    YAML::Node node = root[name];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) return problem(node, name, "must be a mapping");
    for (const auto& entry : node) {
      std::string key = entry.first.as<std::string>();
      auto field = fields.find(key);
      if (field == fields.end()) {
        problem(entry.first, name + "." + key, unknown_key(key, name + ".", fields));
        continue;
      }
      field->second(name + "." + key, entry.second);
    }
  }

  // A scalar with ${VAR}s expanded; nullopt (and a problem) when that is impossible.
  std::optional<std::string> scalar(const std::string& key, const YAML::Node& node) {
    if (!node.IsScalar()) {
      problem(node, key, "must be a single value");
      return std::nullopt;
    }
    util::ExpandResult expanded = util::expand_env(node.Scalar(), env_);
    if (!expanded.error.empty()) {
      // The example config reads the unit's credentials; by hand, the admin sets the variable.
      if (expanded.error.find(" CREDENTIALS_DIRECTORY ") != std::string::npos) {
        expanded.error += " (systemd sets it for the unit's LoadCredential=; by hand, as root: "
                          "CREDENTIALS_DIRECTORY=/etc/esim-sync esim-sync ...)";
      }
      problem(node, key, expanded.error);
      return std::nullopt;
    }
    return expanded.value;
  }

  // Returns false when the value could not be read (the problem is already recorded).
  bool string_field(const std::string& key, const YAML::Node& node, std::string& out) {
    auto value = scalar(key, node);
    if (value) out = *value;
    return value.has_value();
  }

  void int_field(const std::string& key, const YAML::Node& node, int& out, int min, int max) {
    auto value = scalar(key, node);
    if (!value) return;
    try {
      std::size_t used = 0;
      long parsed = std::stol(*value, &used);
      if (used != value->size()) throw std::invalid_argument("trailing text");
      if (parsed < min || parsed > max) {
        return problem(node, key, "must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ", got " + *value);
      }
      out = static_cast<int>(parsed);
    } catch (const std::exception&) {
      problem(node, key, "must be a whole number, got \"" + *value + "\"");
    }
  }

  void duration_field(const std::string& key, const YAML::Node& node,
                      std::chrono::milliseconds& out, std::chrono::milliseconds min) {
    auto value = scalar(key, node);
    if (!value) return;
    auto parsed = util::parse_duration(*value);
    if (!parsed) {
      return problem(node, key, "must be a duration such as 30s, 15m or 1h, got \"" + *value + "\"");
    }
    if (*parsed < min) {
      return problem(node, key, "must be at least " + util::format_duration(min) + ", got " + *value);
    }
    out = *parsed;
  }

  // A list of top-level package fields (sync.volatile_fields): each named once, none typed.
  void volatile_fields_field(const std::string& key, const YAML::Node& node, std::vector<std::string>& out) {
    if (!node.IsSequence()) return problem(node, key, "must be a list of package field names, e.g. [data_usage_remaining]");
    std::vector<std::string> fields;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item = key + "[" + std::to_string(i) + "]";
      auto value = scalar(item, node[i]);
      if (!value) continue;
      if (value->empty()) {
        problem(node[i], item, "must be a field name, got an empty one");
      } else if (is_typed_field(*value)) {
        problem(node[i], item, "\"" + *value + "\" is a field the mirror types: its changes always make a version");
      } else if (std::find(fields.begin(), fields.end(), *value) != fields.end()) {
        problem(node[i], item, "\"" + *value + "\" is listed twice");
      } else {
        fields.push_back(*value);
      }
    }
    out = fields;
  }

  // A retention in whole days ("400d"), or "off" (kept for ever).
  void retention_field(const std::string& key, const YAML::Node& node, std::chrono::hours& out) {
    auto value = scalar(key, node);
    if (!value) return;
    if (*value == "off") {
      out = std::chrono::hours(0);
      return;
    }
    std::size_t used = 0;
    long days = 0;
    try {
      days = std::stol(*value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used + 1 != value->size() || (*value)[used] != 'd' || days < 1 || days > 36'500) {
      return problem(node, key, "must be whole days from 1d to 36500d, or off, got \"" + *value + "\"");
    }
    out = std::chrono::hours(24 * days);
  }

  void size_field(const std::string& key, const YAML::Node& node, std::uint64_t& out, std::uint64_t min) {
    auto value = scalar(key, node);
    if (!value) return;
    auto parsed = util::parse_size(*value);
    if (!parsed) return problem(node, key, "must be a size such as 512KiB or 64MiB, got \"" + *value + "\"");
    if (*parsed < min) return problem(node, key, "must be at least " + util::format_size(min) + ", got " + *value);
    out = *parsed;
  }

  void bool_field(const std::string& key, const YAML::Node& node, bool& out) {
    auto value = scalar(key, node);
    if (!value) return;
    if (*value == "true") out = true;
    else if (*value == "false") out = false;
    else problem(node, key, "must be true or false, got \"" + *value + "\"");
  }

  void fraction_field(const std::string& key, const YAML::Node& node, double& out) {
    auto value = scalar(key, node);
    if (!value) return;
    try {
      std::size_t used = 0;
      double parsed = std::stod(*value, &used);
      if (used != value->size() || !(parsed >= 0.0 && parsed <= 1.0)) throw std::invalid_argument("range");
      out = parsed;
    } catch (const std::exception&) {
      problem(node, key, "must be a number from 0 to 1, got \"" + *value + "\"");
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  const util::EnvLookup& env_;
  std::vector<std::string> problems_;
};

std::string read_secret_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return {};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  struct stat file {};
  if (text.empty() && stat(path.c_str(), &file) == 0 && S_ISDIR(file.st_mode)) {
    error = "cannot read " + path + ": " + std::strerror(EISDIR);
  } else if (text.empty()) {
    error = path + " is empty";
  }
  return text;
}

// The passfile= of a libpq connection string ("passfile=/p" or "...?passfile=/p&..."), if any.
std::optional<std::string> passfile_of(const std::string& conninfo) {
  static const std::regex passfile(R"((?:^|[\s?&])passfile\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+))");
  std::smatch m;
  if (!std::regex_search(conninfo, m, passfile)) return std::nullopt;
  std::string value = m[1].str();
  if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
  return value;
}

const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  if (!api.api_key.empty()) out.push_back(api.api_key);
  return out;
}

namespace {

// The API's credentials, which a database-only command does without.
bool about_api_secrets(const std::string& problem) {
  for (const char* key : {": api.api_key:", ": api.api_key_file:", ": api.user_id:"}) {
    if (problem.find(key) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const util::EnvLookup& env, ConfigScope scope) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError({source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                       std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg});
  }
  ConfigReader reader(source_name, env);
  Config config;
  YAML::Node api_key_node, api_key_file_node;
  bool api_key_given = false, api_key_readable = false, api_key_file_unreadable = false;

  if (!root.IsMap()) {
    throw ConfigError({source_name + ": the file must be a YAML mapping with api, database, "
                                     "schedule and logging sections"});
  }
  const std::map<std::string, bool> sections = {
      {"api", true}, {"database", true}, {"schedule", true}, {"logging", true}, {"sync", true}, {"metrics", true}};
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>();
    if (!sections.count(key)) reader.problem(entry.first, key, unknown_key(key, "", sections));
  }

  reader.section(root, "api", {
      {"base_url", [&](auto& k, auto& v) { reader.string_field(k, v, config.api.base_url); }},
      {"api_key", [&](auto& k, auto& v) {
         api_key_node = v;
         api_key_given = true;
         api_key_readable = reader.string_field(k, v, config.api.api_key);
       }},
      {"api_key_file", [&](auto& k, auto& v) {
         api_key_file_node = v;
         api_key_file_unreadable = !reader.string_field(k, v, config.api.api_key_file); }},
      {"user_id", [&](auto& k, auto& v) { reader.string_field(k, v, config.api.user_id); }},
      {"page_size", [&](auto& k, auto& v) { reader.int_field(k, v, config.api.page_size, 1, 10000); }},
      {"timeout", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.api.timeout, std::chrono::seconds(1)); }},
      {"connect_timeout", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.api.connect_timeout, std::chrono::milliseconds(100)); }},
      {"low_speed_limit", [&](auto& k, auto& v) { reader.size_field(k, v, config.api.low_speed_limit, 1); }},
      {"low_speed_time", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.api.low_speed_time, std::chrono::seconds(1)); }},
      {"max_response_size", [&](auto& k, auto& v) {
         reader.size_field(k, v, config.api.max_response_size, 1024); }},
      {"max_retries", [&](auto& k, auto& v) { reader.int_field(k, v, config.api.max_retries, 0, 20); }},
      {"max_retry_wait", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.api.max_retry_wait, std::chrono::milliseconds(0)); }},
      {"allow_insecure_http", [&](auto& k, auto& v) { reader.bool_field(k, v, config.api.allow_insecure_http); }},
      {"concurrency", [&](auto& k, auto& v) { reader.int_field(k, v, config.api.concurrency, 1, 64); }},
      {"rate_limit", [&](auto& k, auto& v) {
         int rate = 0;
         reader.int_field(k, v, rate, 0, 100000);
         config.api.rate_limit = rate; }},
  });
  reader.section(root, "database", {
      {"url", [&](auto& k, auto& v) { reader.string_field(k, v, config.database.url); }},
      {"statement_timeout", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.database.statement_timeout, std::chrono::seconds(1)); }},
  });
  reader.section(root, "sync", {
      {"max_removed_fraction", [&](auto& k, auto& v) {
         reader.fraction_field(k, v, config.sync.max_removed_fraction); }},
      {"max_repaging", [&](auto& k, auto& v) { reader.int_field(k, v, config.sync.max_repaging, 0, 10); }},
      {"max_removal_lookups", [&](auto& k, auto& v) {
         reader.int_field(k, v, config.sync.max_removal_lookups, 0, 1'000'000); }},
      // History and its growth (issue 22): see SyncConfig.
      {"volatile_fields", [&](auto& k, auto& v) { reader.volatile_fields_field(k, v, config.sync.volatile_fields); }},
      {"usage_retention", [&](auto& k, auto& v) { reader.retention_field(k, v, config.sync.usage_retention); }},
      {"run_retention", [&](auto& k, auto& v) { reader.retention_field(k, v, config.sync.run_retention); }},
  });
  reader.section(root, "schedule", {
      {"interval", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.schedule.interval, std::chrono::seconds(1)); }},
      {"jitter", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.schedule.jitter, std::chrono::milliseconds(0)); }},
  });
  reader.section(root, "metrics", {
      {"listen", [&](auto& k, auto& v) {
         std::string listen;
         if (!reader.string_field(k, v, listen) || listen.empty()) return;
         // ":9187" (no host, as Prometheus exporters take it) listens on every IPv4 address.
         static const std::regex shape(R"(^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$)");
         std::smatch m;
         if (!std::regex_match(listen, m, shape) || std::stoi(m[2].str()) > 65535) {
           reader.problem(v, k, "must be host:port or :port, e.g. 127.0.0.1:9187 or :9187 (every address), got \"" +
                                    listen + "\"");
         } else {
           config.metrics.listen = m[1].length() == 0 ? "0.0.0.0" + listen : listen;
         }
       }},
  });
  reader.section(root, "logging", {
      {"level", [&](auto& k, auto& v) {
         std::string level;
         reader.string_field(k, v, level);
         if (level.empty()) return;
         if (level == "warning") level = "warn";  // syslog's and journalctl's word for it
         if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end()) {
           reader.problem(v, k, "must be one of trace, debug, info, warn (or warning), error, got \"" + level + "\"");
         } else {
           config.logging.level = level;
         }
       }},
      {"format", [&](auto& k, auto& v) {
         std::string format;
         reader.string_field(k, v, format);
         if (format == "text" || format == "json") {
           config.logging.format = format;
         } else if (!format.empty()) {
           reader.problem(v, k, "must be text or json, got \"" + format + "\"");
         }
       }},
  });

  // Cross-field rules, each pointed at the most useful line.
  YAML::Node api = root["api"];
  if (std::string why = base_url_problem(config.api.base_url, config.api.allow_insecure_http); !why.empty()) {
    reader.problem(api.IsMap() ? api["base_url"] : api, "api.base_url", why);
  }
  if (!config.api.api_key.empty() && !config.api.api_key_file.empty()) {
    reader.problem(api_key_file_node, "api.api_key_file", "set either api.api_key or api.api_key_file, not both");
  } else if (!config.api.api_key_file.empty()) {
    std::string error;
    config.api.api_key = read_secret_file(config.api.api_key_file, error);
    if (!error.empty()) reader.problem(api_key_file_node, "api.api_key_file", error);
  } else if (!api_key_given && !api_key_file_unreadable) {  // (an unexpandable file has its problem)
    reader.problem(api, "api.api_key", "is required (or api.api_key_file)");
  } else if (config.api.api_key.empty() && api_key_readable) {
    reader.problem(api_key_node, "api.api_key", "must not be empty");
  }
  if (config.api.user_id.empty() && !(api.IsMap() && api["user_id"].IsDefined())) {
    reader.problem(api, "api.user_id", "is required");
  }
  if (config.database.url.empty() && !(root["database"].IsMap() && root["database"]["url"].IsDefined())) {
    reader.problem(root["database"], "database.url", "is required");
  }

  std::vector<std::string> problems = reader.problems();
  if (scope == ConfigScope::kDatabaseOnly) {
    problems.erase(std::remove_if(problems.begin(), problems.end(), about_api_secrets), problems.end());
  }
  if (!problems.empty()) throw ConfigError(problems);
  return config;
}

Config load_config_file(const std::string& path, const util::EnvLookup& env, ConfigScope scope) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path + ": cannot read the configuration file: " + std::strerror(errno)});
  // A directory opens, and fails only at the read.
  struct stat file {};
  if (stat(path.c_str(), &file) == 0 && S_ISDIR(file.st_mode)) {
    throw ConfigError({path + ": cannot read the configuration file: " + std::strerror(EISDIR)});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  Config config = parse_config(buffer.str(), path, env, scope);
  // A literal key (not ${VAR}, not api_key_file) in a file others can read is a leak waiting.
  struct stat info {};
  YAML::Node root = YAML::Load(buffer.str());
  YAML::Node key = root["api"].IsMap() ? root["api"]["api_key"] : YAML::Node();
  if (key.IsScalar() && key.Scalar().find("${") == std::string::npos && stat(path.c_str(), &info) == 0 &&
      (info.st_mode & S_IROTH)) {
    config.warnings.push_back(path + ":" + std::to_string(key.Mark().line + 1) +
                              ": api.api_key is written in a file that every user can read; use ${VAR}, "
                              "api.api_key_file, or chmod o-r " + path);
  }
  // A secret file others can read leaks the same way, wherever the config names it.
  if (!config.api.api_key_file.empty() && stat(config.api.api_key_file.c_str(), &info) == 0 &&
      (info.st_mode & S_IROTH)) {
    config.warnings.push_back("api.api_key_file: " + config.api.api_key_file +
                              " can be read by every user; chmod o-r " + config.api.api_key_file);
  }
  if (auto passfile = passfile_of(config.database.url);
      passfile && stat(passfile->c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO))) {
    config.warnings.push_back("database.url: the passfile " + *passfile +
                              " can be read by group or others, and libpq ignores a password file like that; "
                              "chmod 0600 " + *passfile);
  }
  return config;
}

}  // namespace esim
