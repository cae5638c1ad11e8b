#pragma once
// ${VAR} expansion from the environment. Knows nothing of esim-sync.
#include <functional>
#include <optional>
#include <string>

namespace util {

// Looks a variable up; nullopt when it is unset. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

struct ExpandResult {
  std::string value;
  std::string error;  // empty on success; else names the unset variable or the bad syntax
};

// Replaces every ${NAME} in text. "$$" stands for a literal "$". An unset variable is an
// error, never an empty string: a missing secret must not turn into an empty header.
ExpandResult expand_env(const std::string& text, const EnvLookup& lookup);

}  // namespace util
