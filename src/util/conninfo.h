#pragma once
// libpq connection strings (a postgresql:// URI or key=value pairs): adding a parameter the
// user did not set. Knows nothing of esim-sync.
#include <string>
#include <utility>
#include <vector>

namespace util {

// conninfo with each (keyword, value) appended unless conninfo already names that keyword.
std::string with_connection_defaults(const std::string& conninfo,
                                     const std::vector<std::pair<std::string, std::string>>& defaults);

}  // namespace util
