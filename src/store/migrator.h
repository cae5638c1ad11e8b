#pragma once
// Brings the esim schema up to the migrations this binary carries.
#include <pqxx/pqxx>
#include <stdexcept>
#include <vector>

#include "store/embedded_migrations.h"

namespace esim {

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrateResult {
  std::vector<std::string> applied;  // file names applied by this call
  int current_version = 0;
  // What an administrator should know and do, such as creating esim_reader when the migrating
  // role could not (each with the SQL to run); the commands log them as warnings.
  std::vector<std::string> warnings;
};

// Throws MigrationError unless the connected database is UTF-8 (the API's text is; SQL_ASCII
// takes it in and then fails every pass, another encoding refuses it), naming the encoding and
// how to make a UTF-8 one.
void require_utf8(pqxx::connection_base& connection);

// Applies, in order and in one transaction, every migration not yet recorded in
// esim.schema_migrations. Fails, changing nothing, when an applied migration's file changed
// (checksum) or the database has a migration this binary does not know. A role without the
// right to create the schema gets the GRANT that gives it in the error.
MigrateResult migrate(pqxx::connection_base& connection,
                      const std::vector<Migration>& migrations = embedded_migrations());

}  // namespace esim
