#pragma once
// Human durations such as "30s", "15m", "1h30m", "250ms". Knows nothing of esim-sync.
#include <chrono>
#include <optional>
#include <string>

namespace util {

// Parses a sequence of <integer><unit> with units ms, s, m, h. Returns nullopt on anything
// else (a bare number is rejected: "30" could mean seconds or minutes).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

// The shortest text that parse_duration reads back as the same value ("1h30m", "250ms").
std::string format_duration(std::chrono::milliseconds value);

}  // namespace util
