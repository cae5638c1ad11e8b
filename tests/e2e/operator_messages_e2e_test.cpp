// What an operator reads in the first hour (issue 20): one verdict per end from
// check-config --connect, connection errors as the user wrote the URL, the GRANT a denied
// migration needs, and a command line that says what it expected.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "e2e/e2e_fixture.h"

using esim::testing::contains;
using esim::testing::free_port;
using esim::testing::run_command;
using esim::testing::TempDir;
using esim::testing::TestDatabase;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A config whose database and API nobody listens on.
std::string nowhere_config(TempDir& dir, const std::string& db_url) {
  dir.write("c.yaml", "api:\n  base_url: http://127.0.0.1:" + std::to_string(free_port()) +
                          "/api/v1/esim\n  api_key: k-0123456789\n  user_id: u\n  max_retries: 0\n"
                          "database:\n  url: " + db_url + "\n");
  return dir.file("c.yaml");
}

}  // namespace

TEST(OperatorMessages, CheckConfigConnectGivesOneVerdictPerEnd) {
  TempDir dir;
  const std::string url = "postgresql://esim_sync@127.0.0.1:" + std::to_string(free_port()) + "/esim";
  auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--connect", "--config", nowhere_config(dir, url)});
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
  EXPECT_EQ(count_of(result.out, "# database:"), 1) << result.out;
  EXPECT_TRUE(contains(result.out, "# database: NOT reachable")) << result.out;
  EXPECT_FALSE(contains(result.out, "# database: reachable")) << result.out;
  EXPECT_EQ(count_of(result.out, "# api:"), 1) << result.out;
}

TEST(OperatorMessages, ConnectionErrorsShowTheUrlAsWrittenOnOneLine) {
  TempDir dir;
  const std::string url = "postgresql://esim_sync@127.0.0.1:" + std::to_string(free_port()) + "/esim";
  auto result = run_command({ESIM_SYNC_BINARY, "migrate", "--config", nowhere_config(dir, url)});
  EXPECT_EQ(result.exit_code, 4);
  // The role stays readable (there is no password to hide), and nothing the user did not write.
  EXPECT_TRUE(contains(result.err, url)) << result.err;
  for (const char* injected : {"keepalives", "tcp_user_timeout", "connect_timeout", "[REDACTED]"}) {
    EXPECT_FALSE(contains(result.err, injected)) << injected << ": " << result.err;
  }
  // libpq's own line breaks ("\n\tIs the server running...") are not shown as \n\t escapes.
  EXPECT_FALSE(contains(result.err, "\\n")) << result.err;
  EXPECT_FALSE(contains(result.err, "\\t")) << result.err;
  // A password is still hidden, and the role still shown.
  const std::string with_password =
      "postgresql://esim_sync:pw-9q8w7e@127.0.0.1:" + std::to_string(free_port()) + "/esim";
  auto hidden = run_command({ESIM_SYNC_BINARY, "migrate", "--config", nowhere_config(dir, with_password)});
  EXPECT_FALSE(contains(hidden.err, "pw-9q8w7e")) << hidden.err;
  EXPECT_TRUE(contains(hidden.err, "esim_sync:[REDACTED]@127.0.0.1")) << hidden.err;
}

TEST(OperatorMessages, PermissionDeniedForTheDatabaseNamesTheGrant) {
  TestDatabase db;
  const std::string role = "esim_nogrant_" + std::to_string(getpid());
  db.exec("DROP ROLE IF EXISTS " + role);
  db.exec("CREATE ROLE " + role + " LOGIN");
  db.exec("REVOKE CREATE ON DATABASE " + db.scalar("SELECT current_database()") + " FROM PUBLIC");
  const std::string name = db.scalar("SELECT current_database()");
  std::string url = db.url();
  url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, role);
  TempDir dir;
  dir.write("c.yaml", "api:\n  api_key: k-0123456789\n  user_id: u\ndatabase:\n  url: " + url + "\n");
  auto result = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("c.yaml")});
  db.exec("DROP OWNED BY " + role);
  db.exec("DROP ROLE " + role);
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_TRUE(contains(result.err, "permission denied for database " + name)) << result.err;
  EXPECT_TRUE(contains(result.err, "GRANT CREATE ON DATABASE " + name + " TO " + role)) << result.err;
}

TEST(OperatorMessages, ConfigBeforeTheCommandWorks) {
  TempDir dir;
  dir.write("c.yaml", "api:\n  api_key: k-0123456789\n  user_id: u-before\ndatabase:\n  url: postgresql://u@h/d\n");
  auto result = run_command({ESIM_SYNC_BINARY, "--config", dir.file("c.yaml"), "check-config"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "user_id: u-before")) << result.out;
  auto short_form = run_command({ESIM_SYNC_BINARY, "-c", dir.file("c.yaml"), "check-config"});
  EXPECT_EQ(short_form.exit_code, 0) << short_form.err;
}

TEST(OperatorMessages, AnUnknownCommandIsNamedWithTheCommands) {
  auto result = run_command({ESIM_SYNC_BINARY, "sync"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(contains(result.err, "unknown command 'sync'")) << result.err;
  EXPECT_TRUE(contains(result.err, "once")) << result.err;
  EXPECT_FALSE(contains(result.err, "A subcommand is required")) << result.err;
  auto misspelled = run_command({ESIM_SYNC_BINARY, "--config", "/x.yaml", "chek-config"});
  EXPECT_EQ(misspelled.exit_code, 2);
  EXPECT_TRUE(contains(misspelled.err, "did you mean 'check-config'")) << misspelled.err;
}
