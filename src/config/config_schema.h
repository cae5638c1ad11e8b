#pragma once
// Every configuration key, spelled once. One row per key says its type, bounds, how it is
// shown, who needs it, what a reload does with it and what it means; parse_config reads by
// it, describe_config prints by it, and `esim-sync check-config --keys` lists it for the man
// page's and the example file's checks. A default is the `Config` struct's own
// (config.h): the table reads it from a default-constructed Config rather than spelling it
// again. (PgBouncer's parameter table is the model.)
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"

namespace esim {

enum class KeyType {
  kText,      // a string; a row's `check` may normalise it or refuse it
  kInteger,   // whole number within [min, max]
  kDuration,  // 30s, 15m, 1h30m; at least `min` milliseconds
  kSize,      // 512KiB, 64MiB; at least `min` bytes
  kBoolean,   // true or false
  kFraction,  // a number from 0 to 1
};

// How check-config shows a value.
enum class Shown {
  kAsIs,
  kSecret,            // [REDACTED], always
  kUrl,               // user:password@ redacted
  kConnectionString,  // a password redacted
  kOnlyWhenSet,       // omitted when empty
  kOffWhenEmpty,      // "(off)" when empty
};

// Which commands need the key: `status` and `migrate` only talk to the database, so they run
// without the API's credentials (an unset ${BETATEL_API_KEY}, an unreadable api_key_file).
enum class NeededBy { kEveryCommand, kApiCommands };

// Where a key's value lives in Config.
template <typename T>
using ConfigField = T& (*)(Config&);
using ConfigTarget = std::variant<ConfigField<std::string>, ConfigField<int>, ConfigField<std::chrono::milliseconds>,
                                  ConfigField<std::uint64_t>, ConfigField<bool>, ConfigField<double>>;

struct ConfigKey {
  const char* name;  // "section.key"
  KeyType type;
  ConfigTarget target;
  long long min = 0, max = 0;  // kInteger: the range; kDuration (ms), kSize (bytes): the least
  bool required = false;       // "is required" when absent
  Shown shown = Shown::kAsIs;
  NeededBy needed_by = NeededBy::kEveryCommand;
  // kText: normalises the value in place, or returns why it is refused ("" when fine).
  std::string (*check)(std::string& value) = nullptr;
  const char* reload = "the next pass";  // when a reload (SIGHUP) applies a change
  const char* doc = "";                  // one line; the man page says more
};

// Every key, in the order check-config prints them, sections together.
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(const std::string& name);
// The sections, in the table's order ("api", "database", ...).
std::vector<std::string> config_sections();

// The value of `key` in `config` as check-config shows it ("" for an unset kOnlyWhenSet).
std::string show_value(const ConfigKey& key, const Config& config);
// The default, as check-config would show it for a file that does not set the key.
std::string default_value(const ConfigKey& key);

}  // namespace esim
