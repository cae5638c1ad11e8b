#include "util/conninfo.h"

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

}  // namespace util
