#include "util/conninfo.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>

#include "util/url_encode.h"

namespace util {

namespace {

bool is_uri(const std::string& conninfo) {
  return conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
}

bool names(const std::string& conninfo, const std::string& keyword) {
  // As a key=value pair, or as a URI query parameter.
  const std::regex pattern("(^|[\\s?&])" + keyword + "\\s*=");
  return std::regex_search(conninfo, pattern);
}

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string with_connection_defaults(const std::string& conninfo,
                                     const std::vector<std::pair<std::string, std::string>>& defaults) {
  std::string out = conninfo;
  const bool uri = is_uri(conninfo);
  for (const auto& [keyword, value] : defaults) {
    if (names(conninfo, keyword)) continue;
    if (uri) {
      out += (out.find('?') == std::string::npos ? "?" : "&") + keyword + "=" + url_encode(value);
    } else {
      out += (out.empty() ? "" : " ") + keyword + "=" + value;
    }
  }
  return out;
}

std::string without_connection_defaults(const std::string& conninfo,
                                        const std::vector<std::pair<std::string, std::string>>& defaults) {
  std::string out = conninfo;
  const bool uri = is_uri(conninfo);
  // Appended in order, so taken off from the last.
  for (auto it = defaults.rbegin(); it != defaults.rend(); ++it) {
    const std::string pair = it->first + "=" + (uri ? url_encode(it->second) : it->second);
    for (const char* separator : uri ? std::vector<const char*>{"&", "?"} : std::vector<const char*>{" ", ""}) {
      const std::string tail = separator + pair;
      if (ends_with(out, tail) && (*separator != '\0' || out.size() == tail.size())) {
        out.erase(out.size() - tail.size());
        break;
      }
    }
  }
  return out;
}

std::string libpq_message(const std::string& text) {
  std::string out;
  std::size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  for (std::size_t i = 0; i <= end; ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      while (i + 1 <= end && (text[i + 1] == '\t' || text[i + 1] == ' ' || text[i + 1] == '\n')) ++i;
      out += "; ";
    } else if (text[i] == '\t') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

namespace {

// One field of a .pgpass line: ':' and '\' may be escaped with '\'.
std::vector<std::string> pgpass_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      fields.back() += line[++i];
    } else if (line[i] == ':' && fields.size() < 5) {
      fields.emplace_back();
    } else {
      fields.back() += line[i];
    }
  }
  return fields;
}

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

std::string explain_password_failure(const std::string& conninfo, const std::string& libpq_error,
                                     const EnvLookup& lookup) {
  if (libpq_error.find("no password supplied") == std::string::npos &&
      libpq_error.find("password authentication failed") == std::string::npos) {
    return "";
  }
  char* parse_error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &parse_error), &PQconninfoFree);
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (!options) return "";
  std::map<std::string, std::string> given;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') given[o->keyword] = o->val;
  }
  if (given.count("password") || lookup("PGPASSWORD")) return "";  // no password file involved
  auto value = [&](const char* keyword, const char* variable) -> std::string {
    if (auto it = given.find(keyword); it != given.end()) return it->second;
    if (auto from_env = lookup(variable); from_env && !from_env->empty()) return *from_env;
    return "";
  };
  // What libpq compares with each line, as it computes it.
  std::string host = value("host", "PGHOST");
  if (host.empty()) host = value("hostaddr", "PGHOSTADDR");
  if (host.empty() || host[0] == '/') host = "localhost";
  std::string port = value("port", "PGPORT");
  if (port.empty()) port = "5432";
  std::string user = value("user", "PGUSER");
  if (user.empty()) {
    if (const passwd* pw = getpwuid(geteuid())) user = pw->pw_name;
  }
  std::string database = value("dbname", "PGDATABASE");
  if (database.empty()) database = user;

  std::string path = value("passfile", "PGPASSFILE");
  std::string whence = given.count("passfile") ? "the passfile named in database.url"
                       : lookup("PGPASSFILE")  ? "PGPASSFILE"
                                               : "libpq's default password file";
  if (path.empty()) {
    std::string home;
    if (auto h = lookup("HOME"); h && !h->empty()) home = *h;
    else if (const passwd* pw = getpwuid(geteuid())) home = pw->pw_dir;
    path = home + "/.pgpass";
  }
  const std::string wanted = host + ":" + port + ":" + database + ":" + user;
  const std::string prefix = " (" + whence + ", " + path + ": ";
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return prefix + std::strerror(errno) + ")";
  if (!S_ISREG(info.st_mode)) return prefix + "not a regular file, so libpq ignores it)";
  if (info.st_mode & (S_IRWXG | S_IRWXO)) {
    return prefix + "mode " + mode_text(info.st_mode) +
           ", readable by group or others, so libpq ignores it; chmod 0600 " + path + ")";
  }
  std::ifstream in(path);
  if (!in) {
    return prefix + "cannot be read: " + std::strerror(errno) + "; it must belong to the user esim-sync runs as (uid " +
           std::to_string(geteuid()) + "))";
  }
  std::string line, mismatches;
  int number = 0, shown = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = pgpass_fields(line);
    if (fields.size() < 5) {
      mismatches += "; line " + std::to_string(number) + " has fewer than five fields";
      continue;
    }
    const std::vector<std::pair<const char*, std::string>> compared = {
        {"host", host}, {"port", port}, {"database", database}, {"user", user}};
    std::string differs;
    for (std::size_t i = 0; i < compared.size(); ++i) {
      if (fields[i] != "*" && fields[i] != compared[i].second) {
        differs += std::string(differs.empty() ? "" : ", ") + compared[i].first + " " + fields[i];
      }
    }
    if (differs.empty()) {
      return " (the password came from " + path + " line " + std::to_string(number) + ", which matches " + wanted +
             "; the server refused it: check that line's password)";
    }
    if (shown++ < 5) mismatches += "; line " + std::to_string(number) + " differs: " + differs;
  }
  return prefix + "no line matches " + wanted +
         " (host:port:database:user, compared literally: localhost is not 127.0.0.1; * matches anything)" +
         mismatches + ")";
}

}  // namespace util
