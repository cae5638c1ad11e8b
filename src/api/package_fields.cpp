#include "api/package_fields.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "api/page_parser.h"
#include "util/json_reader.h"
#include "util/time_format.h"
#include "util/utf8.h"

namespace esim {

namespace json_text {


std::string describe(std::string_view raw) { return util::shortened(raw, 60); }

bool absent(std::string_view value) { return value.empty() || value == "null"; }
bool is_number(std::string_view value) { return !value.empty() && (value[0] == '-' || (value[0] >= '0' && value[0] <= '9')); }
bool is_string(std::string_view value) { return !value.empty() && value[0] == '"'; }

std::optional<std::int64_t> as_int64(std::string_view number) {
  const char* const end = number.data() + number.size();
  if (number.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t value = 0;
    auto [stop, error] = std::from_chars(number.data(), end, value);
    if (error != std::errc() || stop != end) return std::nullopt;
    return value;
  }
  double d = 0;
  auto [stop, error] = std::from_chars(number.data(), end, d);
  if (error != std::errc() || stop != end) return std::nullopt;
  // 2^63 is exact as a double; [-2^63, 2^63) converts without overflow.
  if (std::isfinite(d) && d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace json_text

using json_text::absent;
using util::JsonReader;
using json_text::as_int64;
using json_text::describe;
using json_text::is_number;
using json_text::is_string;

Package TypedReader::read() {
  Package p;
  p.id = required_string("id", fields_.id);
  id_ = p.id;
  p.status = required_string("status", fields_.status);
  p.sim = optional_string("sim", fields_.sim);
  p.package_template = template_id();
  p.created_date = optional_millis("created_date", fields_.created_date);
  p.activated_date = optional_millis("activated_date", fields_.activated_date);
  p.expiry_date = optional_millis("expiry_date", fields_.expiry_date);
  return p;
}

void TypedReader::warn(const std::string& what) const {
  warnings_.push_back("page at offset " + std::to_string(offset_) + ": package " + shown_id(id_) + ": " + what);
}

void TypedReader::problem(const std::string& what) const {
  std::string who = "package #" + std::to_string(index_);
  if (is_string(fields_.id)) who += " (id " + shown_id(util::unescape_json_string(fields_.id)) + ")";
  throw ShapeProblem{who + " " + what};
}

void TypedReader::out_of_range(const char* key, std::string_view value) const {
  warn(std::string("\"") + key + "\" is " + describe(value) + ", beyond 64 bits; stored as NULL");
}

std::string TypedReader::required_string(const char* key, std::string_view value) const {
  if (absent(value)) problem(std::string("has no \"") + key + "\"");
  std::string text = is_string(value) ? util::unescape_json_string(value) : std::string();
  if (text.empty()) problem(std::string("has \"") + key + "\" that is not a non-empty string: " + describe(value));
  if (text.size() > kMaxIndexedTextBytes) problem(std::string("has \"") + key + "\" " + too_long(text));
  return text;
}

std::optional<std::string> TypedReader::optional_string(const char* key, std::string_view value) const {
  if (absent(value)) return std::nullopt;
  if (!is_string(value)) problem(std::string("has \"") + key + "\" that is not a string: " + describe(value));
  std::string text = util::unescape_json_string(value);
  if (text.size() > kMaxIndexedTextBytes) {
    warn(std::string("\"") + key + "\" " + too_long(text) + "; stored as NULL");
    return std::nullopt;
  }
  return text;
}

std::string TypedReader::too_long(const std::string& text) {
  return "of " + std::to_string(text.size()) + " bytes, more than " + std::to_string(kMaxIndexedTextBytes);
}

std::optional<std::int64_t> TypedReader::optional_millis(const char* key, std::string_view value) const {
  if (absent(value)) return std::nullopt;
  if (!is_number(value)) problem(std::string("has \"") + key + "\" that is not epoch milliseconds: " + describe(value));
  auto millis = as_int64(value);
  if (!millis) out_of_range(key, value);
  if (millis && !util::epoch_ms_fits_timestamptz(*millis)) {
    warn(std::string("\"") + key + "\" is " + std::to_string(*millis) + ", beyond what timestamptz holds; stored as " +
         (*millis > 0 ? "infinity" : "-infinity"));
  }
  return millis;
}

// An integer in the documented API; an object {"id": ..., "name": ...} in one SDK revision.
std::optional<std::int64_t> TypedReader::template_id() const {
  std::string_view id = fields_.package_template;
  if (absent(id)) return std::nullopt;
  if (id[0] == '{') {
    id = {};
    JsonReader object(fields_.package_template);  // checked already: cannot fail
    object.enter_object();
    std::string key;
    while (object.next_field(key)) {
      std::string_view value = object.raw_value(kMaxPackageNesting);
      if (key == "id") id = value;
    }
    if (absent(id)) return std::nullopt;
  }
  if (is_number(id)) {
    auto value = as_int64(id);
    if (!value) out_of_range("package_template", id);
    return value;
  }
  if (is_string(id)) {
    const std::string text = util::unescape_json_string(id);
    std::size_t used = 0;
    try {
      long long value = std::stoll(text, &used);
      if (used == text.size()) return value;
    } catch (const std::out_of_range&) {
      out_of_range("package_template", id);
      return std::nullopt;
    } catch (const std::exception&) {
    }
  }
  problem("has a \"package_template\" without an integer id: " + describe(fields_.package_template));
}

}  // namespace esim
