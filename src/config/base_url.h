#pragma once
// The rules for api.base_url, decided by libcurl's own URL parser (curl_url), so that the host
// checked here is the host libcurl will connect to: a prefix or regex check can be fooled by
// "http://127.0.0.1.evil.example/" or "http://evil.example#@127.0.0.1/".
#include <string>

namespace esim {

// Why `url` cannot be api.base_url, or "" when it can: an http(s) URL with a host, no
// user:password@ (credentials belong in api.api_key), no query or fragment (the client appends
// /packages?...), and plain http only to 127.0.0.0/8, ::1 or localhost unless allow_insecure_http.
std::string base_url_problem(const std::string& url, bool allow_insecure_http);

// The account part of a valid api.base_url: its host, lowercased and without the port, and its
// path without a trailing slash ("esim.betatel.com", "/api/v1/esim"). The port and scheme are
// how the API is reached, not whose account it is (a proxy or a tunnel may change them).
struct BaseUrlParts {
  std::string host;
  std::string path;
};
BaseUrlParts base_url_parts(const std::string& url);

// 127.0.0.0/8, ::1 (with or without brackets) or exactly "localhost", as libcurl reports a host.
bool is_loopback_host(const std::string& host);

}  // namespace esim
