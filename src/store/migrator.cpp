#include "store/migrator.h"

#include <map>

#include "util/conninfo.h"

namespace esim {

namespace {

// Serialises concurrent migrators (two hosts starting at once) on one database.
constexpr long long kMigrationLockKey = 0x6573696d6d6967;  // "esimmig"

const char* kCreateLedger = R"sql(
CREATE SCHEMA IF NOT EXISTS esim;
CREATE TABLE IF NOT EXISTS esim.schema_migrations (
    version    integer PRIMARY KEY,
    file_name  text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE esim.schema_migrations IS 'Migrations applied by esim-sync, with the SHA-256 of each file.';
)sql";

// The BI role is cluster-wide and made by migration 0002 only when the migrating role may create
// roles; otherwise PostgreSQL's NOTICE would be all there is (and client_min_messages hides it).
std::string reader_role_warning(pqxx::work& tx) {
  const auto row = tx.exec1(
      "SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'esim_reader'), current_user, current_database()");
  if (!row[0].as<bool>()) return "";
  const std::string role = row[1].as<std::string>(), database = row[2].as<std::string>();
  return "role esim_reader was not created: " + role +
         " may not create roles (it lacks CREATEROLE), so BI users have no read-only role yet. "
         "As a superuser, in database " + database +
         ", run: CREATE ROLE esim_reader NOLOGIN; GRANT USAGE ON SCHEMA esim TO esim_reader; "
         "GRANT SELECT ON ALL TABLES IN SCHEMA esim TO esim_reader; ALTER DEFAULT PRIVILEGES FOR ROLE " + role +
         " IN SCHEMA esim GRANT SELECT ON TABLES TO esim_reader; (docs/bi.md, \"Connecting a BI tool\")";
}

MigrateResult migrate_in(pqxx::connection_base& connection, const std::vector<Migration>& migrations);

}  // namespace

void require_utf8(pqxx::connection_base& connection) {
  pqxx::nontransaction tx(connection, "require_utf8");
  const pqxx::row r = tx.exec1("SELECT current_database(), pg_encoding_to_char(encoding) FROM pg_database "
                               "WHERE datname = current_database()");
  const std::string name = r[0].as<std::string>(), encoding = r[1].as<std::string>();
  if (encoding == "UTF8") return;
  throw MigrationError("database \"" + name + "\" has encoding " + encoding +
                       "; esim-sync needs UTF8 (the API's text is UTF-8). Create one with CREATE DATABASE " +
                       tx.quote_name(name) + " ENCODING 'UTF8' TEMPLATE template0 (and LC_COLLATE/LC_CTYPE of a " +
                       "UTF-8 locale, e.g. 'C.UTF-8'), then point database.url at it");
}

MigrateResult migrate(pqxx::connection_base& connection, const std::vector<Migration>& migrations) {
  require_utf8(connection);  // before anything is written to it
  try {
    return migrate_in(connection, migrations);
  } catch (const pqxx::insufficient_privilege& e) {
    const std::string what = e.what();
    if (what.find("permission denied for database") == std::string::npos) throw;
    // The schema cannot be created: the role needs CREATE on the database (or to own it). Not
    // a MigrationError: `run` keeps trying (an administrator may grant it meanwhile).
    pqxx::nontransaction who(connection);
    const auto row = who.exec1("SELECT quote_ident(current_user), quote_ident(current_database())");
    throw std::runtime_error(util::libpq_message(what) + "; esim-sync creates schema esim on its first run, so " +
                         row[0].as<std::string>() + " needs CREATE on the database: as a superuser or the "
                         "database's owner run  GRANT CREATE ON DATABASE " + row[1].as<std::string>() + " TO " +
                         row[0].as<std::string>() + "  (or run `esim-sync migrate` once as a role that may)");
  }
}

namespace {

MigrateResult migrate_in(pqxx::connection_base& connection, const std::vector<Migration>& migrations) {
  pqxx::work tx(connection, "migrate");
  tx.exec("SET LOCAL client_min_messages = warning");
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
  tx.exec(kCreateLedger);

  struct Applied {
    std::string file_name, checksum;
  };
  std::map<int, Applied> applied;
  for (const auto& row : tx.exec("SELECT version, file_name, checksum FROM esim.schema_migrations")) {
    applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }

  MigrateResult result;
  int newest_known = 0;
  for (const Migration& m : migrations) {
    newest_known = std::max(newest_known, m.version);
    std::string checksum =
        tx.exec_params1("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", m.sql)[0].as<std::string>();
    auto found = applied.find(m.version);
    if (found != applied.end()) {
      if (found->second.checksum != checksum) {
        throw MigrationError("migration " + std::string(m.file_name) +
                             " was changed after it was applied (checksum " + checksum +
                             ", recorded " + found->second.checksum +
                             "); add a new migration instead of editing an applied one");
      }
      continue;
    }
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO esim.schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                   m.version, m.file_name, checksum);
    result.applied.push_back(m.file_name);
  }
  for (const auto& [version, entry] : applied) {
    if (version > newest_known) {
      throw MigrationError("the database has migration " + entry.file_name +
                           " which this esim-sync does not know; run a newer esim-sync");
    }
  }
  if (std::string warning = reader_role_warning(tx); !warning.empty()) result.warnings.push_back(warning);
  tx.commit();
  result.current_version = newest_known;
  return result;
}

}  // namespace

}  // namespace esim
