#pragma once
// Time points as text that PostgreSQL and people read without ambiguity.
#include <chrono>
#include <cstdint>
#include <string>

namespace util {

// ISO 8601 in UTC with microseconds: "2026-11-26T22:47:41.123456Z".
std::string format_utc_iso8601(std::chrono::system_clock::time_point time);


// Epoch milliseconds as "2025-10-24 18:25:17" (UTC, to the second), for tables people read.
std::string format_utc_seconds(std::int64_t epoch_ms);


// Whether PostgreSQL's timestamptz holds this instant (4714-11-24 BC up to, not including,
// 294277-01-01 AD). The store keeps an instant beyond as an infinity (the pass view in
// store/apply_sql.h has the same bounds).
bool epoch_ms_fits_timestamptz(std::int64_t epoch_ms);

}  // namespace util
