#include "util/duration.h"

#include <cctype>
#include <cstdint>
#include <limits>

namespace util {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (number > std::numeric_limits<std::int64_t>::max() / 10 / 3'600'000) return std::nullopt;
      number = number * 10 + (text[i++] - '0');
    }
    std::int64_t unit_ms = 0;
    if (text.compare(i, 2, "ms") == 0) {
      unit_ms = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit_ms = 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit_ms = 60'000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit_ms = 3'600'000;
      ++i;
    } else {
      return std::nullopt;
    }
    total_ms += number * unit_ms;
  }
  return std::chrono::milliseconds(total_ms);
}

std::string format_duration(std::chrono::milliseconds value) {
  std::int64_t ms = value.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace util
