#include "config/base_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <strings.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <optional>

#include "util/redact.h"

namespace esim {

namespace {

struct UrlHandle {
  CURLU* handle = curl_url();
  ~UrlHandle() { curl_url_cleanup(handle); }

  // A part of the URL, or nullopt when the URL has none.
  std::optional<std::string> part(CURLUPart which) const {
    char* text = nullptr;
    if (curl_url_get(handle, which, &text, 0) != CURLUE_OK || text == nullptr) return std::nullopt;
    std::string out = text;
    curl_free(text);
    return out;
  }
};

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (strcasecmp(host.c_str(), "localhost") == 0) return true;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, bare.c_str(), &v6) == 1) return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  return false;
}

std::string base_url_problem(const std::string& url, bool allow_insecure_http) {
  const std::string shown = "\"" + util::redact_url_userinfo(url) + "\"";
  const std::string not_a_url = "must be an https:// URL with a host, got " + shown;
  UrlHandle parsed;
  if (parsed.handle == nullptr) return "cannot be checked (libcurl is out of memory)";
  if (const CURLUcode rc = curl_url_set(parsed.handle, CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return not_a_url + " (" + curl_url_strerror(rc) + ")";
  }
  const auto scheme = parsed.part(CURLUPART_SCHEME);
  if (!scheme || (*scheme != "http" && *scheme != "https")) return not_a_url;
  // libcurl reads "https:///name" as host "name"; what the operator wrote has no host.
  const auto authority = url.find("://");
  if (authority == std::string::npos || url.size() <= authority + 3 || url[authority + 3] == '/') return not_a_url;
  const auto host = parsed.part(CURLUPART_HOST);
  if (!host || host->empty()) return not_a_url;
  if (parsed.part(CURLUPART_USER) || parsed.part(CURLUPART_PASSWORD) || parsed.part(CURLUPART_OPTIONS)) {
    return "must not carry user:password@ (got " + shown +
           "); the API takes its credentials from api.api_key (or api.api_key_file) and api.user_id";
  }
  if (parsed.part(CURLUPART_QUERY) || parsed.part(CURLUPART_FRAGMENT)) {
    return "must not have a query (?) or fragment (#), got " + shown + "; esim-sync appends /packages?...";
  }
  if (*scheme == "http" && !allow_insecure_http && !is_loopback_host(*host)) {
    return "http:// sends the API key in clear text to " + *host +
           "; use https://, or set api.allow_insecure_http: true (plain http is allowed to 127.0.0.0/8, ::1 "
           "and localhost)";
  }
  return "";
}

BaseUrlParts base_url_parts(const std::string& url) {
  UrlHandle parsed;
  BaseUrlParts parts;
  if (parsed.handle == nullptr || curl_url_set(parsed.handle, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return parts;
  parts.host = parsed.part(CURLUPART_HOST).value_or("");
  for (char& c : parts.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  parts.path = parsed.part(CURLUPART_PATH).value_or("");
  while (!parts.path.empty() && parts.path.back() == '/') parts.path.pop_back();
  return parts;
}

}  // namespace esim
