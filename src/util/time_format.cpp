#include "util/time_format.h"

#include <cstdio>
#include <ctime>

namespace util {

std::string format_utc_iso8601(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(time.time_since_epoch()).count();
  auto seconds = static_cast<std::time_t>(micros / 1'000'000);
  auto fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(text + n, sizeof text - n, ".%06lldZ", static_cast<long long>(fraction));
  return text;
}

}  // namespace util

namespace util {

std::string format_utc_seconds(std::int64_t epoch_ms) {
  auto seconds = static_cast<std::time_t>(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

}  // namespace util

namespace util {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 0 is 1 BC). Howard
// Hinnant's algorithm: exact for every int64 day count in range.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr std::int64_t kMsPerDay = 86'400'000;
// PostgreSQL's timestamptz range: from 4714-11-24 00:00 BC (Julian day 0) up to, but not
// including, 294277-01-01 00:00 AD.
constexpr std::int64_t kFirstMs = days_from_civil(-4713, 11, 24) * kMsPerDay;
constexpr std::int64_t kEndMs = days_from_civil(294277, 1, 1) * kMsPerDay;

}  // namespace

bool epoch_ms_fits_timestamptz(std::int64_t epoch_ms) { return epoch_ms >= kFirstMs && epoch_ms < kEndMs; }


}  // namespace util
