#pragma once
// Time points as text that PostgreSQL and people read without ambiguity.
#include <chrono>
#include <cstdint>
#include <string>

namespace util {

// ISO 8601 in UTC with microseconds: "2026-11-26T22:47:41.123456Z".
std::string format_utc_iso8601(std::chrono::system_clock::time_point time);

}  // namespace util

namespace util {

// Epoch milliseconds as "2025-10-24 18:25:17" (UTC, to the second), for tables people read.
std::string format_utc_seconds(std::int64_t epoch_ms);

}  // namespace util

namespace util {

// Epoch milliseconds as PostgreSQL timestamptz input, exactly (integer arithmetic, no floating
// point): "2025-10-24 18:25:17.123+00", with " BC" for years before 1 AD. Instants outside what
// timestamptz can hold (4714-11-24 BC to 294276 AD), such as the "never expires" value
// 9223372036854775807, become "infinity" or "-infinity".
std::string format_epoch_ms_timestamptz(std::int64_t epoch_ms);

// Whether format_epoch_ms_timestamptz gives the instant itself rather than an infinity.
bool epoch_ms_fits_timestamptz(std::int64_t epoch_ms);

}  // namespace util
