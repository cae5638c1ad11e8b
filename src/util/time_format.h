#pragma once
// Time points as text that PostgreSQL and people read without ambiguity.
#include <chrono>
#include <string>

namespace util {

// ISO 8601 in UTC with microseconds: "2026-11-26T22:47:41.123456Z".
std::string format_utc_iso8601(std::chrono::system_clock::time_point time);

}  // namespace util
