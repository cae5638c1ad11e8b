// describe_config: the effective configuration as an operator reads it, secrets redacted; and
// the schema itself, for `check-config --keys`. Both print by the schema (config_schema.h).
#include <sstream>

#include "config/config.h"
#include "config/config_schema.h"
#include "util/redact.h"

namespace esim {

namespace {

const char* type_name(KeyType type) {
  switch (type) {
    case KeyType::kText: return "text";
    case KeyType::kInteger: return "integer";
    case KeyType::kDuration: return "duration";
    case KeyType::kSize: return "size";
    case KeyType::kBoolean: return "boolean";
    case KeyType::kFraction: return "fraction";
  }
  return "text";
}

}  // namespace

std::string describe_config(const Config& config) {
  std::ostringstream out;
  std::string section;
  for (const ConfigKey& key : config_keys()) {
    const std::string name = key.name;
    const std::size_t dot = name.find('.');
    if (name.compare(0, dot, section) != 0 || section.size() != dot) {
      section = name.substr(0, dot);
      out << section << ":\n";
    }
    const std::string value = show_value(key, config);
    if (key.shown == Shown::kOnlyWhenSet && value.empty()) continue;
    out << "  " << name.substr(dot + 1) << ": " << value << "\n";
  }
  return util::redact(out.str(), config.secrets());
}

std::string describe_config_keys() {
  std::ostringstream out;
  out << "# key\ttype\tdefault\trequired\treload applies\tmeaning\n";
  for (const ConfigKey& key : config_keys()) {
    std::string fallback = default_value(key);
    if (fallback.empty()) fallback = "-";
    out << key.name << '\t' << type_name(key.type) << '\t' << fallback << '\t' << (key.required ? "yes" : "no")
        << '\t' << key.reload << '\t' << key.doc << '\n';
  }
  return out.str();
}

}  // namespace esim
