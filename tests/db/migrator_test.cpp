#include "store/migrator.h"

#include <gtest/gtest.h>

#include "support/test_database.h"

using esim::migrate;
using esim::Migration;
using esim::MigrationError;
using esim::testing::TestDatabase;

TEST(Migrator, CreatesTheSchemaOnceAndRecordsEachMigration) {
  TestDatabase db;
  pqxx::connection c(db.url());
  auto first = migrate(c);
  EXPECT_EQ(first.applied.size(), esim::embedded_migrations().size());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.schema_migrations"),
            std::to_string(esim::embedded_migrations().size()));
  EXPECT_EQ(db.scalar("SELECT to_regclass('esim.packages') IS NOT NULL"), "t");
  EXPECT_EQ(db.scalar("SELECT to_regclass('esim.package_status_history') IS NOT NULL"), "t");
  EXPECT_EQ(db.scalar("SELECT to_regclass('esim.sync_runs') IS NOT NULL"), "t");

  auto second = migrate(c);
  EXPECT_TRUE(second.applied.empty());
}

TEST(Migrator, AppliesOnlyWhatIsNewInOrder) {
  TestDatabase db;
  pqxx::connection c(db.url());
  std::vector<Migration> v1 = {{1, "0001_a.sql", "CREATE SCHEMA IF NOT EXISTS esim; CREATE TABLE esim.a (x int);"}};
  std::vector<Migration> v2 = v1;
  v2.push_back({2, "0002_b.sql", "ALTER TABLE esim.a ADD COLUMN y int;"});
  migrate(c, v1);
  auto result = migrate(c, v2);
  ASSERT_EQ(result.applied.size(), 1u);
  EXPECT_EQ(result.applied[0], "0002_b.sql");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'"), "2");
}

TEST(Migrator, ChangedAppliedMigrationIsRefusedAndNothingChanges) {
  TestDatabase db;
  pqxx::connection c(db.url());
  migrate(c, {{1, "0001_a.sql", "CREATE SCHEMA IF NOT EXISTS esim; CREATE TABLE esim.a (x int);"}});
  std::vector<Migration> edited = {
      {1, "0001_a.sql", "CREATE SCHEMA IF NOT EXISTS esim; CREATE TABLE esim.a (x bigint);"},
      {2, "0002_b.sql", "CREATE TABLE esim.b (x int);"}};
  try {
    migrate(c, edited);
    FAIL() << "an edited migration must be refused";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_a.sql was changed after it was applied"), std::string::npos);
  }
  EXPECT_EQ(db.scalar("SELECT to_regclass('esim.b') IS NULL"), "t");  // 0002 not applied either
}

TEST(Migrator, DatabaseNewerThanTheBinaryIsRefused) {
  TestDatabase db;
  pqxx::connection c(db.url());
  std::vector<Migration> v1 = {{1, "0001_a.sql", "CREATE SCHEMA IF NOT EXISTS esim;"}};
  std::vector<Migration> v2 = v1;
  v2.push_back({2, "0002_b.sql", "SELECT 1;"});
  migrate(c, v2);
  EXPECT_THROW(migrate(c, v1), MigrationError);
}

TEST(Migrator, FailingMigrationLeavesNoTrace) {
  TestDatabase db;
  pqxx::connection c(db.url());
  std::vector<Migration> broken = {{1, "0001_a.sql", "CREATE SCHEMA IF NOT EXISTS esim; CREATE TABLE esim.a (x int);"},
                                   {2, "0002_b.sql", "SELECT * FROM no_such_table;"}};
  EXPECT_ANY_THROW(migrate(c, broken));
  EXPECT_EQ(db.scalar("SELECT to_regclass('esim.a') IS NULL"), "t");
}
