#include "config/config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

using esim::Config;
using esim::ConfigError;
using esim::parse_config;

namespace {

util::EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const char* kValid = R"(api:
  base_url: https://esim.betatel.com/api/v1/esim
  api_key: ${BETATEL_API_KEY}
  user_id: ${BETATEL_USER_ID}
  page_size: 250
  timeout: 45s
database:
  url: postgresql://esim_sync@localhost/esim
schedule:
  interval: 5m
logging:
  level: debug
)";

// All problems of a config text, or an empty list when it is valid.
std::vector<std::string> problems(const std::string& text, std::map<std::string, std::string> vars = {
                                                               {"BETATEL_API_KEY", "k"}, {"BETATEL_USER_ID", "u"}}) {
  try {
    parse_config(text, "test.yaml", env(vars));
    return {};
  } catch (const ConfigError& e) {
    return e.problems();
  }
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& line : lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(Config, ReadsEveryKeyAndExpandsVariables) {
  Config c = parse_config(kValid, "test.yaml", env({{"BETATEL_API_KEY", "secret-key"}, {"BETATEL_USER_ID", "42"}}));
  EXPECT_EQ(c.api.base_url, "https://esim.betatel.com/api/v1/esim");
  EXPECT_EQ(c.api.api_key, "secret-key");
  EXPECT_EQ(c.api.user_id, "42");
  EXPECT_EQ(c.api.page_size, 250);
  EXPECT_EQ(c.api.timeout, std::chrono::seconds(45));
  EXPECT_EQ(c.database.url, "postgresql://esim_sync@localhost/esim");
  EXPECT_EQ(c.schedule.interval, std::chrono::minutes(5));
  EXPECT_EQ(c.logging.level, "debug");
}

TEST(Config, DefaultsApplyWhenOptionalKeysAreAbsent) {
  Config c = parse_config("api:\n  api_key: k\n  user_id: u\ndatabase:\n  url: dbname=esim\n", "t.yaml", env({}));
  EXPECT_EQ(c.api.base_url, "https://esim.betatel.com/api/v1/esim");
  EXPECT_EQ(c.api.page_size, 100);
  EXPECT_EQ(c.api.timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.schedule.interval, std::chrono::minutes(15));
  EXPECT_EQ(c.logging.level, "info");
}

TEST(Config, UnknownKeyIsNamedWithItsLine) {
  std::string text = kValid;
  text.replace(text.find("  page_size"), 0, "  page_sise: 10\n");
  auto found = problems(text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], "test.yaml:5: api.page_sise: unknown key");
}

TEST(Config, UnknownTopLevelSection) {
  auto found = problems(std::string(kValid) + "metrics:\n  listen: x\n");
  EXPECT_TRUE(any_contains(found, "test.yaml:13: metrics: unknown key"));
}

TEST(Config, ReportsAllProblemsAtOnce) {
  auto found = problems(R"(api:
  base_url: ftp://example
  api_key: ${MISSING_KEY}
  user_id: u
  page_size: lots
  timeout: 30
database:
  url: dbname=esim
schedule:
  interval: 0s
logging:
  level: loud
)");
  EXPECT_TRUE(any_contains(found, "test.yaml:3: api.api_key: environment variable MISSING_KEY is not set"));
  EXPECT_TRUE(any_contains(found, "test.yaml:5: api.page_size: must be a whole number"));
  EXPECT_TRUE(any_contains(found, "test.yaml:6: api.timeout: must be a duration"));
  EXPECT_TRUE(any_contains(found, "test.yaml:10: schedule.interval: must be at least 1s"));
  EXPECT_TRUE(any_contains(found, "test.yaml:12: logging.level: must be one of"));
  EXPECT_TRUE(any_contains(found, "test.yaml:2: api.base_url: must start with https://"));
  EXPECT_EQ(found.size(), 6u);
}

TEST(Config, PageSizeOutOfRange) {
  std::string text = kValid;
  text.replace(text.find("250"), 3, "0");
  EXPECT_TRUE(any_contains(problems(text), "test.yaml:5: api.page_size: must be between 1 and 10000"));
}

TEST(Config, RequiredKeysAreNamed) {
  auto found = problems("logging:\n  level: info\n");
  EXPECT_TRUE(any_contains(found, "api.api_key: is required"));
  EXPECT_TRUE(any_contains(found, "api.user_id: is required"));
  EXPECT_TRUE(any_contains(found, "database.url: is required"));
}

TEST(Config, YamlSyntaxErrorGivesTheLine) {
  auto found = problems("api:\n  api_key: k\n  user_id: [unclosed\ndatabase:\n  url: x\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(found[0].rfind("test.yaml:", 0), 0u);
}

TEST(Config, ApiKeyFromFileWithTrailingNewlineTrimmed) {
  char path[] = "/tmp/esim-key-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "file-secret\n";
  Config c = parse_config(std::string("api:\n  api_key_file: ") + path + "\n  user_id: u\ndatabase:\n  url: x\n",
                          "t.yaml", env({}));
  std::remove(path);
  EXPECT_EQ(c.api.api_key, "file-secret");
}

TEST(Config, ApiKeyAndApiKeyFileTogetherIsAnError) {
  auto found = problems("api:\n  api_key: k\n  api_key_file: /x\n  user_id: u\ndatabase:\n  url: x\n");
  EXPECT_TRUE(any_contains(found, "t") && any_contains(found, "not both"));
}

TEST(Config, DescribeNeverShowsSecrets) {
  Config c = parse_config(kValid, "test.yaml",
                          env({{"BETATEL_API_KEY", "super-secret-key"}, {"BETATEL_USER_ID", "42"}}));
  c.database.url = "postgresql://esim:db-password@db/esim";
  std::string text = esim::describe_config(c);
  EXPECT_EQ(text.find("super-secret-key"), std::string::npos) << text;
  EXPECT_EQ(text.find("db-password"), std::string::npos) << text;
  EXPECT_NE(text.find("api_key: [REDACTED]"), std::string::npos) << text;
  EXPECT_NE(text.find("interval: 5m"), std::string::npos) << text;
}
