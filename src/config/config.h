#pragma once
// The YAML configuration: what it holds and how a file becomes one (validated, ${VAR}s expanded).
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/env_expand.h"

namespace esim {

struct ApiConfig {
  std::string base_url = "https://esim.betatel.com/api/v1/esim";
  std::string api_key;       // secret: never logged, printed or stored
  std::string api_key_file;  // where api_key was read from, when it came from a file
  std::string user_id;
  int page_size = 100;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct DatabaseConfig {
  std::string url;  // any libpq connection string or URI; may hold a password
};

struct ScheduleConfig {
  std::chrono::milliseconds interval{std::chrono::minutes(15)};
};

struct LoggingConfig {
  std::string level = "info";
};

struct Config {
  ApiConfig api;
  DatabaseConfig database;
  ScheduleConfig schedule;
  LoggingConfig logging;

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

// source_name is how messages name the file ("config.yaml").
Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const util::EnvLookup& env = util::process_environment());
Config load_config_file(const std::string& path,
                        const util::EnvLookup& env = util::process_environment());

// The effective configuration as YAML, with secrets redacted (for check-config).
std::string describe_config(const Config& config);

}  // namespace esim
