#pragma once
// Percent-encoding for URL query values (RFC 3986 unreserved characters pass through).
#include <string>

namespace util {

std::string url_encode(const std::string& value);

}  // namespace util
