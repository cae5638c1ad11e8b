#include "util/log_fields.h"

#include "util/escape.h"

namespace util {

namespace {

thread_local std::vector<std::pair<std::string, std::string>> fields;  // key, JSON value

std::string json_string(const std::string& text) {
  std::string out = "\"";
  append_json_string_body(out, text);
  return out + "\"";
}

}  // namespace

LogFields::LogFields(std::initializer_list<std::pair<std::string, std::int64_t>> numbers) {
  for (const auto& [key, value] : numbers) add(key, value);
}

LogFields& LogFields::add(const std::string& key, std::int64_t value) {
  fields.emplace_back(key, std::to_string(value));
  ++added_;
  return *this;
}

LogFields& LogFields::add(const std::string& key, const std::string& value) {
  fields.emplace_back(key, json_string(value));
  ++added_;
  return *this;
}

LogFields::~LogFields() { fields.resize(fields.size() - added_); }

std::string LogFields::current_json() {
  std::string out;
  for (const auto& [key, value] : fields) out += ",\"" + key + "\":" + value;
  return out;
}

}  // namespace util
