#pragma once
// Keeps secrets out of text that leaves the process (logs, errors, database rows).
#include <string>
#include <vector>

namespace util {

// Replaces every occurrence of each secret with "[REDACTED]". Secrets shorter than 6 characters
// are not searched for: they would mangle ordinary words, and no real API key is that short.
std::string redact(std::string text, const std::vector<std::string>& secrets);

// A libpq connection string or URI with its password replaced by "[REDACTED]"
// (postgresql://user:pw@host/db and "password=pw" forms).
std::string redact_connection_string(const std::string& conninfo);

// Text with the userinfo of every URL in it replaced by "[REDACTED]@"; a postgres(ql):// URL
// keeps its role and loses only the password (user:[REDACTED]@), and one without a password
// is left as it is.
std::string redact_url_userinfo(const std::string& text);

}  // namespace util
