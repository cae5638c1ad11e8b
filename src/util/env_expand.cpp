#include "util/env_expand.h"

#include <cctype>
#include <cstdlib>

namespace util {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

static bool valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

ExpandResult expand_env(const std::string& text, const EnvLookup& lookup) {
  ExpandResult result;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      result.value += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      result.value += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      result.value += '$';
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      result.error = "unterminated ${ in \"" + text + "\"";
      return result;
    }
    std::string name = text.substr(i + 2, close - i - 2);
    if (!valid_name(name)) {
      result.error = "invalid variable name ${" + name + "}";
      return result;
    }
    std::optional<std::string> value = lookup(name);
    if (!value) {
      result.error = "environment variable " + name + " is not set";
      return result;
    }
    result.value += *value;
    i = close;
  }
  return result;
}

}  // namespace util
