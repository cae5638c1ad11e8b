#pragma once
// The migrations/*.sql files, compiled in by cmake/EmbedMigrations.cmake.
#include <string>
#include <vector>

namespace esim {

struct Migration {
  int version;
  const char* file_name;
  const char* sql;
};

const std::vector<Migration>& embedded_migrations();

}  // namespace esim
