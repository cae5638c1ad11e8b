#pragma once
// libpq connection strings (a postgresql:// URI or key=value pairs): adding a parameter the
// user did not set, taking it off again to show what the user wrote, and explaining libpq's
// terse password errors. Knows nothing of esim-sync.
#include <string>
#include <utility>
#include <vector>

#include "util/env_expand.h"

namespace util {

// conninfo with each (keyword, value) appended unless conninfo already names that keyword.
std::string with_connection_defaults(const std::string& conninfo,
                                     const std::vector<std::pair<std::string, std::string>>& defaults);

// The inverse: what with_connection_defaults(written, defaults) appended, taken off again, so
// an error shows the connection string as the user wrote it.
std::string without_connection_defaults(const std::string& conninfo,
                                        const std::vector<std::pair<std::string, std::string>>& defaults);

// libpq's error text on one line: its "\n\t" continuation lines joined with "; ", its
// trailing newline dropped (a log line would show them as \n and \t escapes).
std::string libpq_message(const std::string& text);

// When libpq failed for want of a password ("no password supplied", "password authentication
// failed") and conninfo carries none, which password file libpq read (passfile=, PGPASSFILE or
// ~/.pgpass) and why it gave nothing: missing, unreadable, open to group or others, or no line
// matching host:port:database:user (each line's differing fields named; never a password).
// "" when there is nothing to say. lookup reads PGPASSFILE, PGHOST, PGPORT, PGUSER, ... and HOME.
std::string explain_password_failure(const std::string& conninfo, const std::string& libpq_error,
                                     const EnvLookup& lookup);

}  // namespace util
