#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/stat.h>

#include "config/base_url.h"
#include "config/config_schema.h"
#include "util/duration.h"
#include "util/edit_distance.h"
#include "util/size.h"

namespace esim {

namespace {

// "unknown key", and the nearest known key when one is at most two edits away.
std::string unknown_key(const std::string& key, const std::string& prefix, const std::vector<std::string>& known) {
  std::string closest;
  std::size_t best = 3;
  for (const auto& name : known) {
    const std::size_t d = util::edit_distance(key, name);
    if (d < best) best = d, closest = name;
  }
  return closest.empty() ? "unknown key" : "unknown key; did you mean " + prefix + closest + "?";
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out = "invalid configuration:";
  for (const auto& line : lines) out += "\n  " + line;
  return out;
}

// A problem and the key it is about, so that a scope can leave out the keys it does not need.
struct Problem {
  std::string key;
  std::string text;  // "file:line: key: message"
};

// Reads values by the schema, collecting every problem instead of stopping at the first, so
// an operator fixes a file in one round.
class ConfigReader {
 public:
  ConfigReader(std::string source, const util::EnvLookup& env) : source_(std::move(source)), env_(env) {}

  void problem(const YAML::Node& at, const std::string& key, const std::string& message) {
    std::string where = source_;
    if (at.IsDefined() && at.Mark().line >= 0) where += ":" + std::to_string(at.Mark().line + 1);
    problems_.push_back({key, where + ": " + key + ": " + message});
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

  // One key's value into the config, as its row says. False when it could not be read (the
  // problem is recorded).
  bool read(const ConfigKey& key, const YAML::Node& node, Config& config) {
    std::optional<std::string> value = scalar(key.name, node);
    if (!value) return false;
    const std::string why = std::visit([&](auto target) { return convert(key, *value, target(config)); }, key.target);
    if (!why.empty()) problem(node, key.name, why);
    return why.empty();
  }

  std::vector<Problem>& problems() { return problems_; }

 private:
  // Each returns why the text is refused, "" when it was stored.
  static std::string convert(const ConfigKey& key, std::string& text, std::string& out) {
    if (key.check != nullptr) {
      if (std::string why = key.check(text); !why.empty()) return why;
    }
    out = text;
    return "";
  }
  static std::string convert(const ConfigKey& key, const std::string& text, int& out) {
    if (key.type == KeyType::kDays) return convert_days(key, text, out);
    try {
      std::size_t used = 0;
      const long parsed = std::stol(text, &used);
      if (used != text.size()) throw std::invalid_argument("trailing text");
      if (parsed < key.min || parsed > key.max) {
        return "must be between " + std::to_string(key.min) + " and " + std::to_string(key.max) + ", got " + text;
      }
      out = static_cast<int>(parsed);
      return "";
    } catch (const std::exception&) {
      return "must be a whole number, got \"" + text + "\"";
    }
  }
  static std::string convert(const ConfigKey& key, const std::string& text, std::chrono::milliseconds& out) {
    const auto parsed = util::parse_duration(text);
    if (!parsed) return "must be a duration such as 30s, 15m or 1h, got \"" + text + "\"";
    const std::chrono::milliseconds least(key.min);
    if (*parsed < least) return "must be at least " + util::format_duration(least) + ", got " + text;
    out = *parsed;
    return "";
  }
  static std::string convert(const ConfigKey& key, const std::string& text, std::uint64_t& out) {
    const auto parsed = util::parse_size(text);
    if (!parsed) return "must be a size such as 512KiB or 64MiB, got \"" + text + "\"";
    const auto least = static_cast<std::uint64_t>(key.min);
    if (*parsed < least) return "must be at least " + util::format_size(least) + ", got " + text;
    out = *parsed;
    return "";
  }
  // Whole days, "400d", or "off" (0): a retention.
  static std::string convert_days(const ConfigKey& key, const std::string& text, int& out) {
    if (text == "off") {
      out = 0;
      return "";
    }
    std::size_t used = 0;
    long days = -1;
    try {
      days = std::stol(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used + 1 != text.size() || text[used] != 'd' || days < key.min || days > key.max) {
      return "must be whole days from " + std::to_string(key.min) + "d to " + std::to_string(key.max) +
             "d, or off, got \"" + text + "\"";
    }
    out = static_cast<int>(days);
    return "";
  }
  static std::string convert(const ConfigKey&, const std::string& text, bool& out) {
    if (text != "true" && text != "false") return "must be true or false, got \"" + text + "\"";
    out = text == "true";
    return "";
  }
  static std::string convert(const ConfigKey&, const std::string& text, double& out) {
    try {
      std::size_t used = 0;
      const double parsed = std::stod(text, &used);
      if (used != text.size() || !(parsed >= 0.0 && parsed <= 1.0)) throw std::invalid_argument("range");
      out = parsed;
      return "";
    } catch (const std::exception&) {
      return "must be a number from 0 to 1, got \"" + text + "\"";
    }
  }

  std::string source_;
  const util::EnvLookup& env_;
  std::vector<Problem> problems_;
};

// One reading of a document: the config, its problems, and the nodes that the rules between
// keys and load_config_file's checks of files point at.
struct Document {
  Config config;
  std::vector<Problem> problems;
  YAML::Node api_key;       // as written (a literal key draws a warning in a readable file)
  YAML::Node api_key_file;
  bool read_key_file = false;  // api.api_key_file names the key: load_config_file reads it
};

YAML::Node parse_yaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError({source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                       ": YAML syntax error: " + e.msg});
  }
}

// How the API key was written: the rules between api.api_key and api.api_key_file need to know
// whether each was given at all, and whether its value could be read (${VAR} expanded).
struct KeyNodes {
  bool api_key_given = false, api_key_readable = false;
  bool api_key_file_given = false, api_key_file_readable = false;
};

// Top-level keys that are no section.
void check_sections(const YAML::Node& root, const std::vector<std::string>& sections, ConfigReader& reader) {
  for (const auto& entry : root) {
    const std::string section = entry.first.as<std::string>();
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      reader.problem(entry.first, section, unknown_key(section, "", sections));
    }
  }
}

// Every key of one section, read by its row of the schema.
void read_section(YAML::Node root, const std::string& section, ConfigReader& reader, Document& doc, KeyNodes& nodes) {
  YAML::Node node = root[section];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) return reader.problem(node, section, "must be a mapping");
  std::vector<std::string> known;
  for (const ConfigKey& key : config_keys()) {
    if (std::string(key.name).rfind(section + ".", 0) == 0) known.push_back(key.name + section.size() + 1);
  }
  for (const auto& entry : node) {
    const std::string name = section + "." + entry.first.as<std::string>();
    const ConfigKey* key = find_config_key(name);
    if (key == nullptr) {
      reader.problem(entry.first, name, unknown_key(entry.first.as<std::string>(), section + ".", known));
      continue;
    }
    const bool read = reader.read(*key, entry.second, doc.config);
    if (name == "api.api_key") doc.api_key = entry.second, nodes.api_key_given = true, nodes.api_key_readable = read;
    if (name == "api.api_key_file") {
      doc.api_key_file = entry.second, nodes.api_key_file_given = true, nodes.api_key_file_readable = read;
    }
  }
}

// Rules between keys, each pointed at the most useful line.
void check_rules_between_keys(YAML::Node root, const KeyNodes& nodes, ConfigReader& reader, Document& doc) {
  const Config& c = doc.config;
  YAML::Node api = root["api"];
  if (std::string why = base_url_problem(c.api.base_url, c.api.allow_insecure_http); !why.empty()) {
    reader.problem(api.IsMap() ? api["base_url"] : api, "api.base_url", why);
  }
  if (!c.api.api_key.empty() && !c.api.api_key_file.empty()) {
    reader.problem(doc.api_key_file, "api.api_key_file", "set either api.api_key or api.api_key_file, not both");
  } else if (!c.api.api_key_file.empty()) {
    doc.read_key_file = true;
  } else if (!nodes.api_key_given && !(nodes.api_key_file_given && !nodes.api_key_file_readable)) {
    reader.problem(api, "api.api_key", "is required (or api.api_key_file)");  // (an unexpandable file has its problem)
  } else if (c.api.api_key.empty() && nodes.api_key_readable) {
    reader.problem(doc.api_key, "api.api_key", "must not be empty");
  }
  for (const ConfigKey& key : config_keys()) {
    if (!key.required) continue;
    const std::string name = key.name;
    const std::size_t dot = name.find('.');
    YAML::Node section = root[name.substr(0, dot)];
    if (!(section.IsMap() && section[name.substr(dot + 1)].IsDefined())) reader.problem(section, name, "is required");
  }
}

// Every key of every section by the schema, then the rules between keys. Reads no file.
// (root by value: a const node throws on a missing key where a mutable one answers "undefined".)
Document read_document(YAML::Node root, const std::string& source, const util::EnvLookup& env) {
  if (!root.IsMap()) {
    throw ConfigError({source + ": the file must be a YAML mapping with api, database, schedule and logging sections"});
  }
  ConfigReader reader(source, env);
  Document doc;
  KeyNodes nodes;
  const std::vector<std::string> sections = config_sections();
  check_sections(root, sections, reader);                                // 1. sections that are none
  for (const std::string& section : sections) read_section(root, section, reader, doc, nodes);  // 2. keys
  check_rules_between_keys(root, nodes, reader, doc);                    // 3. rules between keys
  doc.problems = std::move(reader.problems());
  return doc;
}

// Throws with the problems the scope needs to hear of, or returns the config.
Config finish(Document doc, ConfigScope scope) {
  std::vector<std::string> problems;
  for (const Problem& p : doc.problems) {
    const ConfigKey* key = find_config_key(p.key);
    if (scope == ConfigScope::kDatabaseOnly && key != nullptr && key->needed_by == NeededBy::kApiCommands) continue;
    problems.push_back(p.text);
  }
  if (!problems.empty()) throw ConfigError(problems);
  return std::move(doc.config);
}

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

bool readable_by_others(const std::string& path, mode_t others) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && (info.st_mode & others);
}

// What the file system says of the secrets the document names: api.api_key_file's key, and
// files that others can read (a literal key in the config file itself among them).
void check_secret_files(Document& doc, const std::string& path) {
  Config& config = doc.config;
  if (doc.read_key_file) {
    std::string error;
    config.api.api_key = read_secret_file(config.api.api_key_file, error);
    if (!error.empty()) {
      const std::string line = doc.api_key_file.Mark().line >= 0 ? ":" + std::to_string(doc.api_key_file.Mark().line + 1) : "";
      doc.problems.push_back({"api.api_key_file", path + line + ": api.api_key_file: " + error});
    }
  }
  // A literal key (not ${VAR}, not api_key_file) in a file others can read is a leak waiting.
  if (doc.api_key.IsDefined() && doc.api_key.IsScalar() && doc.api_key.Scalar().find("${") == std::string::npos &&
      readable_by_others(path, S_IROTH)) {
    config.warnings.push_back(path + ":" + std::to_string(doc.api_key.Mark().line + 1) +
                              ": api.api_key is written in a file that every user can read; use ${VAR}, "
                              "api.api_key_file, or chmod o-r " + path);
  }
  // A secret file others can read leaks the same way, wherever the config names it.
  if (!config.api.api_key_file.empty() && readable_by_others(config.api.api_key_file, S_IROTH)) {
    config.warnings.push_back("api.api_key_file: " + config.api.api_key_file +
                              " can be read by every user; chmod o-r " + config.api.api_key_file);
  }
  if (auto passfile = passfile_of(config.database.url); passfile && readable_by_others(*passfile, S_IRWXG | S_IRWXO)) {
    config.warnings.push_back("database.url: the passfile " + *passfile +
                              " can be read by group or others, and libpq ignores a password file like that; "
                              "chmod 0600 " + *passfile);
  }
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  if (!api.api_key.empty()) out.push_back(api.api_key);
  return out;
}

Config parse_config(const std::string& yaml_text, const std::string& source_name, const util::EnvLookup& env,
                    ConfigScope scope) {
  return finish(read_document(parse_yaml(yaml_text, source_name), source_name, env), scope);
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
  Document doc = read_document(parse_yaml(buffer.str(), path), path, env);
  check_secret_files(doc, path);
  return finish(std::move(doc), scope);
}

}  // namespace esim
