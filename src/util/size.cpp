#include "util/size.h"

#include <cctype>
#include <limits>
#include <utility>

namespace util {

std::optional<std::uint64_t> parse_size(const std::string& text) {
  std::size_t i = 0;
  std::uint64_t number = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (number > std::numeric_limits<std::uint64_t>::max() / 10) return std::nullopt;
    number = number * 10 + static_cast<std::uint64_t>(text[i++] - '0');
  }
  const std::string unit = text.substr(i);
  const std::pair<const char*, std::uint64_t> units[] = {
      {"", 1},           {"B", 1},
      {"KB", 1000},      {"MB", 1000'000},        {"GB", 1000'000'000},
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  for (const auto& [name, factor] : units) {
    if (unit != name) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
    return number * factor;
  }
  return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
  const std::pair<const char*, std::uint64_t> units[] = {{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  for (const auto& [name, factor] : units) {
    if (bytes >= factor && bytes % factor == 0) return std::to_string(bytes / factor) + name;
  }
  return std::to_string(bytes) + "B";
}

}  // namespace util
