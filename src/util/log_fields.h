#pragma once
// Structured fields for log lines: a scope sets them on its thread, and a formatter that
// writes JSON adds them to every line logged inside it ("run_id": 12, "duration_ms": 340).
// Text formats ignore them: the message already says it. Knows nothing of esim-sync.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace util {

class LogFields {
 public:
  // Values are kept as JSON: numbers as they are, strings quoted and escaped.
  LogFields() = default;
  LogFields(std::initializer_list<std::pair<std::string, std::int64_t>> numbers);
  LogFields& add(const std::string& key, std::int64_t value);
  LogFields& add(const std::string& key, const std::string& value);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  // The fields in force on this thread, as `,"key":value` text ready to append to an object.
  static std::string current_json();

 private:
  std::size_t added_ = 0;
};

}  // namespace util
