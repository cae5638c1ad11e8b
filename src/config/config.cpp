#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "util/duration.h"
#include "util/redact.h"

namespace esim {

namespace {

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
        problem(entry.first, name + "." + key, "unknown key");
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
    error = "cannot read " + path;
    return {};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty()) error = path + " is empty";
  return text;
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

Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const util::EnvLookup& env) {
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
  bool api_key_given = false, api_key_readable = false;

  if (!root.IsMap()) {
    throw ConfigError({source_name + ": the file must be a YAML mapping with api, database, "
                                     "schedule and logging sections"});
  }
  const std::map<std::string, bool> sections = {
      {"api", true}, {"database", true}, {"schedule", true}, {"logging", true}};
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>();
    if (!sections.count(key)) reader.problem(entry.first, key, "unknown key");
  }

  reader.section(root, "api", {
      {"base_url", [&](auto& k, auto& v) { reader.string_field(k, v, config.api.base_url); }},
      {"api_key", [&](auto& k, auto& v) {
         api_key_node = v;
         api_key_given = true;
         api_key_readable = reader.string_field(k, v, config.api.api_key);
       }},
      {"api_key_file", [&](auto& k, auto& v) { api_key_file_node = v; reader.string_field(k, v, config.api.api_key_file); }},
      {"user_id", [&](auto& k, auto& v) { reader.string_field(k, v, config.api.user_id); }},
      {"page_size", [&](auto& k, auto& v) { reader.int_field(k, v, config.api.page_size, 1, 10000); }},
      {"timeout", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.api.timeout, std::chrono::seconds(1)); }},
  });
  reader.section(root, "database", {
      {"url", [&](auto& k, auto& v) { reader.string_field(k, v, config.database.url); }},
  });
  reader.section(root, "schedule", {
      {"interval", [&](auto& k, auto& v) {
         reader.duration_field(k, v, config.schedule.interval, std::chrono::seconds(1)); }},
  });
  reader.section(root, "logging", {
      {"level", [&](auto& k, auto& v) {
         std::string level;
         reader.string_field(k, v, level);
         if (level.empty()) return;
         if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end()) {
           reader.problem(v, k, "must be one of trace, debug, info, warn, error, got \"" + level + "\"");
         } else {
           config.logging.level = level;
         }
       }},
  });

  // Cross-field rules, each pointed at the most useful line.
  YAML::Node api = root["api"];
  const std::string& url = config.api.base_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    reader.problem(api["base_url"], "api.base_url", "must start with https:// or http://, got \"" + url + "\"");
  }
  if (!config.api.api_key.empty() && !config.api.api_key_file.empty()) {
    reader.problem(api_key_file_node, "api.api_key_file", "set either api.api_key or api.api_key_file, not both");
  } else if (!config.api.api_key_file.empty()) {
    std::string error;
    config.api.api_key = read_secret_file(config.api.api_key_file, error);
    if (!error.empty()) reader.problem(api_key_file_node, "api.api_key_file", error);
  } else if (!api_key_given) {
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

  if (!reader.problems().empty()) throw ConfigError(reader.problems());
  return config;
}

Config load_config_file(const std::string& path, const util::EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path + ": cannot read the configuration file"});
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path, env);
}

}  // namespace esim
