#include "util/redact.h"

#include <regex>

namespace util {

static constexpr const char* kMask = "[REDACTED]";

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < 6) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + std::char_traits<char>::length(kMask))) {
      text.replace(at, secret.size(), kMask);
    }
  }
  return text;
}

std::string redact_connection_string(const std::string& conninfo) {
  // URI form: scheme://user:password@host...
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:/@]*:)([^@]*)(@))");
  // Key/value form and URI query form: password=secret or password='quoted secret'.
  static const std::regex kv_password(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*))");
  std::string out = std::regex_replace(conninfo, uri_password, std::string("$1") + kMask + "$3");
  return std::regex_replace(out, kv_password, std::string("$1") + kMask);
}

std::string redact_url_userinfo(const std::string& text) {
  if (text.find('@') == std::string::npos) return text;  // the common case, without a regex
  // The authority ends at the first / ? # (or space); its userinfo, at the last @ before that.
  // A PostgreSQL URI keeps its role (who connects is half of most connection mistakes) and
  // loses only its password; any other scheme loses the whole userinfo (a token may be the user).
  static const std::regex postgres_password(R"(\b(postgres(?:ql)?://[^:/?#\s@]*:)[^/?#\s]*@)", std::regex::icase);
  static const std::regex other_scheme(R"(\b((?!postgres(?:ql)?://)[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@)",
                                       std::regex::icase);
  std::string out = std::regex_replace(text, postgres_password, std::string("$1") + kMask + "@");
  return std::regex_replace(out, other_scheme, std::string("$1") + kMask + "@");
}

}  // namespace util
