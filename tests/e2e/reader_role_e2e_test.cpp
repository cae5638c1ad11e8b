// migrate as a role that may not create roles (docs/operations.md "Deploy with systemd": the database's
// owner): esim_reader cannot be made, and migrate must say so and how to make it. The role is
// cluster-wide and scripts/test creates it, so this test renames it away for its duration: it
// runs alone (RUN_SERIAL, with the database fault tests).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "e2e/e2e_fixture.h"

using esim::testing::contains;
using esim::testing::run_command;
using esim::testing::TempDir;
using esim::testing::TestDatabase;

namespace {

// Renames esim_reader away while it lives, and back after.
class ReaderRoleAway {
 public:
  explicit ReaderRoleAway(TestDatabase& db) : db_(db) {
    saved_ = "esim_reader_saved_" + std::to_string(getpid());
    if (db_.scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'esim_reader'") == "1") {
      db_.exec("ALTER ROLE esim_reader RENAME TO " + saved_);
      renamed_ = true;
    }
  }
  ~ReaderRoleAway() {
    try {
      if (renamed_) db_.exec("ALTER ROLE " + saved_ + " RENAME TO esim_reader");
    } catch (...) {
    }
  }

 private:
  TestDatabase& db_;
  std::string saved_;
  bool renamed_ = false;
};

}  // namespace

TEST(ReaderRole, MigrateWithoutCreateroleSaysEsimReaderWasNotCreatedAndHowToCreateIt) {
  TestDatabase db;
  const std::string role = "esim_owner_" + std::to_string(getpid());
  const std::string name = db.scalar("SELECT current_database()");
  db.exec("DROP ROLE IF EXISTS " + role);
  db.exec("CREATE ROLE " + role + " LOGIN NOCREATEROLE");
  db.exec("ALTER DATABASE " + name + " OWNER TO " + role);
  std::string url = db.url();
  url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, role);
  TempDir dir;
  dir.write("c.yaml", "api:\n  api_key: k-0123456789\n  user_id: u\ndatabase:\n  url: " + url + "\n");
  esim::testing::RunResult first, again;
  {
    ReaderRoleAway away(db);
    first = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("c.yaml")});
    again = run_command({ESIM_SYNC_BINARY, "migrate", "--config", dir.file("c.yaml")});
  }
  db.exec("ALTER DATABASE " + name + " OWNER TO CURRENT_USER");
  db.exec("REASSIGN OWNED BY " + role + " TO CURRENT_USER");
  db.exec("DROP OWNED BY " + role);
  db.exec("DROP ROLE " + role);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  for (const auto* result : {&first, &again}) {
    // Said as a warning, with what an administrator runs.
    EXPECT_TRUE(contains(result->err, "esim_reader was not created")) << result->err;
    EXPECT_TRUE(contains(result->err, "CREATE ROLE esim_reader NOLOGIN")) << result->err;
    EXPECT_TRUE(contains(result->err, "GRANT SELECT ON ALL TABLES IN SCHEMA esim TO esim_reader")) << result->err;
    EXPECT_TRUE(contains(result->err, "warn")) << result->err;
  }
}
