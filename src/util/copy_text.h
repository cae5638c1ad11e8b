#pragma once
// Rows in PostgreSQL's COPY text format: fields joined by tabs, \N for NULL, and backslash,
// newline, carriage return and tab escaped. Knows nothing of esim-sync.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace util {

class CopyLine {
 public:
  CopyLine& text(std::string_view value);
  CopyLine& text(const std::string& value) { return text(std::string_view(value)); }
  CopyLine& text(const char* value) { return text(std::string_view(value)); }
  CopyLine& text(const std::optional<std::string>& value) { return value ? text(std::string_view(*value)) : null(); }
  CopyLine& integer(std::optional<std::int64_t> value);
  CopyLine& null();
  // The finished line (without its newline); the builder starts afresh.
  std::string take();

 private:
  void separate();
  std::string line_;
  bool first_ = true;
};

}  // namespace util
