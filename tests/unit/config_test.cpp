#include "config/config.h"
#include "config/config_schema.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

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

// A config text as load_config_file reads it from a file of its own (which it then removes).
Config load_text(const std::string& text, esim::ConfigScope scope = esim::ConfigScope::kEverything) {
  char path[] = "/tmp/esim-config-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::ofstream(path) << text;
  try {
    Config config = esim::load_config_file(path, env({}), scope);
    std::remove(path);
    return config;
  } catch (...) {
    std::remove(path);
    throw;
  }
}

// The problems of a config text read by load_config_file (which reads api.api_key_file).
std::vector<std::string> load_problems(const std::string& text) {
  try {
    load_text(text);
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
  EXPECT_EQ(found[0], "test.yaml:5: api.page_sise: unknown key; did you mean api.page_size?");
}

TEST(Config, UnknownTopLevelSection) {
  auto found = problems(std::string(kValid) + "metric:\n  listen: x\n");
  EXPECT_TRUE(any_contains(found, "test.yaml:13: metric: unknown key"));
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
  EXPECT_TRUE(any_contains(found, "test.yaml:2: api.base_url: must be an https:// URL with a host"));
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
  const std::string text = std::string("api:\n  api_key_file: ") + path + "\n  user_id: u\ndatabase:\n  url: x\n";
  Config parsed = parse_config(text, "t.yaml", env({}));
  Config loaded = load_text(text);
  std::remove(path);
  EXPECT_EQ(parsed.api.api_key, "") << "parse_config reads no file";
  EXPECT_EQ(parsed.api.api_key_file, path);
  EXPECT_EQ(loaded.api.api_key, "file-secret");
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

TEST(Config, FaultHandlingKeysAreReadAndValidated) {
  Config c = parse_config(R"(api:
  api_key: k
  user_id: u
  connect_timeout: 5s
  low_speed_limit: 2KiB
  low_speed_time: 20s
  max_response_size: 8MiB
  max_retries: 3
  max_retry_wait: 90s
database:
  url: x
  statement_timeout: 1m
sync:
  max_removed_fraction: 0.05
  max_repaging: 4
)", "t.yaml", env({}));
  EXPECT_EQ(c.api.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.api.low_speed_limit, 2048u);
  EXPECT_EQ(c.api.low_speed_time, std::chrono::seconds(20));
  EXPECT_EQ(c.api.max_response_size, 8u << 20);
  EXPECT_EQ(c.api.max_retries, 3);
  EXPECT_EQ(c.api.max_retry_wait, std::chrono::seconds(90));
  EXPECT_EQ(c.database.statement_timeout, std::chrono::minutes(1));
  EXPECT_DOUBLE_EQ(c.sync.max_removed_fraction, 0.05);
  EXPECT_EQ(c.sync.max_repaging, 4);

  auto found = problems("api:\n  api_key: k\n  user_id: u\n  max_response_size: huge\n  max_retries: 99\n"
                        "  allow_insecure_http: yes please\ndatabase:\n  url: x\nsync:\n  max_removed_fraction: 1.5\n");
  EXPECT_TRUE(any_contains(found, "test.yaml:4: api.max_response_size: must be a size"));
  EXPECT_TRUE(any_contains(found, "test.yaml:5: api.max_retries: must be between 0 and 20"));
  EXPECT_TRUE(any_contains(found, "test.yaml:6: api.allow_insecure_http: must be true or false"));
  EXPECT_TRUE(any_contains(found, "test.yaml:10: sync.max_removed_fraction: must be a number from 0 to 1"));
}

TEST(Config, PlainHttpOnlyToLoopbackUnlessAllowed) {
  auto with_url = [](const std::string& url, const std::string& extra = "") {
    return problems("api:\n  base_url: " + url + "\n  api_key: k\n  user_id: u\n" + extra + "database:\n  url: x\n");
  };
  EXPECT_TRUE(any_contains(with_url("http://esim.betatel.com/api/v1/esim"), "api.base_url: http:// sends the API key"));
  EXPECT_TRUE(with_url("http://127.0.0.1:8080/api/v1/esim").empty());
  EXPECT_TRUE(with_url("http://localhost/api").empty());
  EXPECT_TRUE(with_url("http://[::1]:9/api").empty());
  EXPECT_TRUE(with_url("http://esim.internal/api", "  allow_insecure_http: true\n").empty());
  EXPECT_TRUE(any_contains(with_url("https:///nohost"), "must be an https:// URL with a host"));
  EXPECT_TRUE(any_contains(with_url("ftp://x/y"), "must be an https:// URL with a host"));
}

TEST(Config, UrlTricksThatReachAnotherHostAreRefused) {
  auto with_url = [](const std::string& url, const std::string& extra = "") {
    return problems("api:\n  api_key: k\n  user_id: u\n  base_url: \"" + url + "\"\n" + extra + "database:\n  url: x\n");
  };
  // libcurl would send each of these to evil.example, the key in clear text.
  for (const char* url : {"http://127.0.0.1.evil.example/api", "http://evil.example#@127.0.0.1/api",
                          "http://evil.example?@localhost/api", "http://localhost.evil.example/api",
                          "http://127.0.0.1@evil.example/api"}) {
    auto found = with_url(url);
    EXPECT_TRUE(any_contains(found, "test.yaml:4: api.base_url:")) << url;
    EXPECT_FALSE(found.empty()) << url;
  }
  EXPECT_TRUE(any_contains(with_url("http://127.0.0.1.evil.example/api"), "clear text to 127.0.0.1.evil.example"));
  // What libcurl itself reads as loopback is loopback.
  EXPECT_TRUE(with_url("http://127.1.2.3:8080/api").empty());
  EXPECT_TRUE(with_url("http://LOCALHOST/api").empty());
  // A query or fragment would swallow the /packages?... the client appends.
  EXPECT_TRUE(any_contains(with_url("https://esim.example/api#x"), "must not have a query (?) or fragment (#)"));
  EXPECT_TRUE(any_contains(with_url("https://esim.example/api?a=1"), "must not have a query (?) or fragment (#)"));
}

TEST(Config, UserinfoInTheBaseUrlIsRefusedAndNeverShown) {
  auto found = problems("api:\n  api_key: k\n  user_id: u\n  base_url: https://reseller:hunter2-pw@esim.example/api\n"
                        "database:\n  url: x\n");
  ASSERT_TRUE(any_contains(found, "test.yaml:4: api.base_url: must not carry user:password@")) << found.size();
  EXPECT_TRUE(any_contains(found, "api.api_key"));
  for (const auto& line : found) EXPECT_EQ(line.find("hunter2-pw"), std::string::npos) << line;
  // Also when the URL is refused for another reason.
  found = problems("api:\n  api_key: k\n  user_id: u\n  base_url: ftp://u:hunter2-pw@esim.example/api\n"
                   "database:\n  url: x\n");
  ASSERT_FALSE(found.empty());
  for (const auto& line : found) EXPECT_EQ(line.find("hunter2-pw"), std::string::npos) << line;
}

TEST(Config, LiteralKeyInAWorldReadableFileDrawsAWarning) {
  char path[] = "/tmp/esim-config-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "api:\n  api_key: literal-key\n  user_id: u\ndatabase:\n  url: x\n";
  chmod(path, 0644);
  Config open_file = esim::load_config_file(path, env({}));
  chmod(path, 0600);
  Config closed_file = esim::load_config_file(path, env({}));
  std::remove(path);
  ASSERT_EQ(open_file.warnings.size(), 1u);
  EXPECT_NE(open_file.warnings[0].find(":2: api.api_key is written in a file that every user can read"), std::string::npos);
  EXPECT_TRUE(closed_file.warnings.empty());
}

TEST(Config, SecretFilesReadableByOthersDrawAWarning) {
  char dir_template[] = "/tmp/esim-secrets-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  std::ofstream(dir + "/key") << "secret-key-123\n";
  std::ofstream(dir + "/pgpass") << "localhost:5432:esim:esim_sync:pw\n";
  std::ofstream(dir + "/c.yaml") << "api:\n  api_key_file: " << dir << "/key\n  user_id: u\ndatabase:\n"
                                 << "  url: postgresql://esim_sync@localhost/esim?passfile=" << dir << "/pgpass\n";
  chmod((dir + "/c.yaml").c_str(), 0600);
  auto warnings_with = [&](mode_t key_mode, mode_t pgpass_mode) {
    chmod((dir + "/key").c_str(), key_mode);
    chmod((dir + "/pgpass").c_str(), pgpass_mode);
    return esim::load_config_file(dir + "/c.yaml", env({})).warnings;
  };
  auto open_files = warnings_with(0644, 0640);
  auto closed_files = warnings_with(0600, 0600);
  for (const char* name : {"/key", "/pgpass", "/c.yaml"}) std::remove((dir + name).c_str());
  rmdir(dir.c_str());
  EXPECT_TRUE(any_contains(open_files, "api.api_key_file: " + dir + "/key can be read by every user"));
  EXPECT_TRUE(any_contains(open_files, "database.url: the passfile " + dir + "/pgpass can be read by group or others"));
  EXPECT_EQ(open_files.size(), 2u);
  EXPECT_TRUE(closed_files.empty());
}

TEST(Config, ReadErrorsSayWhy) {
  try {
    esim::load_config_file("/nonexistent/esim.yaml", env({}));
    FAIL() << "a missing file loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/esim.yaml: cannot read the configuration file: No such file "
                                         "or directory"), std::string::npos) << e.what();
  }
  try {
    esim::load_config_file("/tmp", env({}));
    FAIL() << "a directory loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/tmp: cannot read the configuration file: Is a directory"),
              std::string::npos) << e.what();
  }
  auto missing_key = load_problems("api:\n  api_key_file: /nonexistent/key\n  user_id: u\ndatabase:\n  url: x\n");
  ASSERT_EQ(missing_key.size(), 1u);
  EXPECT_NE(missing_key[0].find("cannot read /nonexistent/key: No such file or directory"), std::string::npos)
      << missing_key[0];
  if (geteuid() != 0) {  // root reads any file
    char path[] = "/tmp/esim-key-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    chmod(path, 0);
    auto denied = load_problems(std::string("api:\n  api_key_file: ") + path + "\n  user_id: u\ndatabase:\n  url: x\n");
    unlink(path);
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_NE(denied[0].find("Permission denied"), std::string::npos) << denied[0];
  }
}

TEST(Config, AMisspelledKeyGetsADidYouMean) {
  auto found = problems("api:\n  api_key: k\n  user_id: u\n  page_sise: 3\ndatabase:\n  url: x\nschedul:\n  interval: 1m\n");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], "test.yaml:7: schedul: unknown key; did you mean schedule?");
  EXPECT_EQ(found[1], "test.yaml:4: api.page_sise: unknown key; did you mean api.page_size?");
  auto far = problems("api:\n  api_key: k\n  user_id: u\n  retries: 4\ndatabase:\n  url: x\n");
  ASSERT_EQ(far.size(), 1u);
  EXPECT_EQ(far[0], "test.yaml:4: api.retries: unknown key") << "nothing near enough to suggest";
}

TEST(Config, WarningIsALevelAndAPortAloneListensEverywhere) {
  Config c = parse_config("api:\n  api_key: k\n  user_id: u\ndatabase:\n  url: x\nlogging:\n  level: warning\n"
                          "metrics:\n  listen: \":9187\"\n", "test.yaml", env({}));
  EXPECT_EQ(c.logging.level, "warn");
  EXPECT_EQ(c.metrics.listen, "0.0.0.0:9187");
  auto bad = problems("api:\n  api_key: k\n  user_id: u\ndatabase:\n  url: x\nlogging:\n  level: loud\n"
                      "metrics:\n  listen: \":99999\"\n");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("must be host:port or :port"), std::string::npos) << bad[0];
  EXPECT_NE(bad[1].find("trace, debug, info, warn (or warning), error"), std::string::npos) << bad[1];
}

TEST(Config, AnUnsetCredentialsDirectorySaysWhereItComesFrom) {
  auto found = problems("api:\n  api_key_file: ${CREDENTIALS_DIRECTORY}/betatel-api-key\n  user_id: u\n"
                        "database:\n  url: x\n", {});
  ASSERT_EQ(found.size(), 1u) << "only the variable, not also a missing api_key";
  EXPECT_NE(found[0].find("test.yaml:2: api.api_key_file: environment variable CREDENTIALS_DIRECTORY is not set"),
            std::string::npos) << found[0];
  EXPECT_NE(found[0].find("CREDENTIALS_DIRECTORY=/etc/esim-sync"), std::string::npos) << found[0];
}

TEST(Config, AnEmptyApiKeyFileStillNeedsAKey) {
  auto found = problems("api:\n  api_key_file: \"\"\n  user_id: u\ndatabase:\n  url: x\n");
  EXPECT_TRUE(any_contains(found, "api.api_key: is required")) << (found.empty() ? "(valid)" : found[0]);
}

// One schema drives reading and printing: what check-config prints reads back as the same
// configuration (the redacted key and an unset listener aside).
TEST(ConfigSchema, WhatCheckConfigPrintsReadsBackTheSame) {
  Config c = parse_config(std::string(kValid) + "metrics:\n  listen: 127.0.0.1:9187\nsync:\n  max_removed_fraction: 0.05\n",
                          "test.yaml", env({{"BETATEL_API_KEY", "the-key"}, {"BETATEL_USER_ID", "42"}}));
  const std::string printed = esim::describe_config(c);
  std::string again = printed;
  again.replace(again.find("[REDACTED]"), 10, "the-key");
  Config reread = parse_config(again, "printed.yaml", env({}));
  EXPECT_EQ(esim::describe_config(reread), printed);
  for (const esim::ConfigKey& key : esim::config_keys()) {
    const std::string name = key.name;
    const std::string short_name = name.substr(name.find('.') + 1);
    if (key.shown != esim::Shown::kOnlyWhenSet) {
      EXPECT_NE(printed.find("  " + short_name + ": "), std::string::npos) << name << " is not printed";
    }
  }
}

TEST(ConfigSchema, KeysAreUniqueAndEachHasItsMeaning) {
  std::set<std::string> names;
  for (const esim::ConfigKey& key : esim::config_keys()) {
    EXPECT_TRUE(names.insert(key.name).second) << key.name << " twice";
    EXPECT_NE(std::string(key.doc), "") << key.name;
    EXPECT_EQ(esim::find_config_key(key.name), &key);
  }
  EXPECT_EQ(esim::find_config_key("api.page_sise"), nullptr);
}

// status and migrate need only the database: the API's credentials may be missing or broken,
// and every other key is still checked.
TEST(ConfigSchema, TheDatabaseOnlyScopeSkipsTheApiCredentialsByKey) {
  const std::string text = "api:\n  api_key: ${UNSET}\n  page_size: 0\ndatabase:\n  url: x\n";
  try {
    parse_config(text, "t.yaml", env({}), esim::ConfigScope::kDatabaseOnly);
    FAIL() << "api.page_size: 0 was accepted";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 1u) << e.what();
    EXPECT_NE(e.problems()[0].find("api.page_size: must be between 1 and 10000"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(parse_config("database:\n  url: x\n", "t.yaml", env({}), esim::ConfigScope::kDatabaseOnly));
}
