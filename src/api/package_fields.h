#pragma once
// The fields of one package that the mirror types (id, status, sim, template, dates), read from
// their JSON text: spans that util::JsonReader handed out and checked. The page parser walks
// the page; this says what each field's text means, and what is odd or wrong about it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/package.h"

namespace esim {

namespace json_text {

// A value as shown in a message: at most 60 bytes of its JSON.
std::string describe(std::string_view raw);
bool absent(std::string_view value);  // missing, or null
bool is_number(std::string_view value);
bool is_string(std::string_view value);
// An integer that fits in 64 bits, from 1761330317000 or 1761330317000.0 (the same instant).
// nullopt for a number beyond int64 (18446744073709551615, 2^63, 1e30) or with a fraction.
std::optional<std::int64_t> as_int64(std::string_view number);

}  // namespace json_text

// The values of the fields the mirror types, as one package object holds them (a repeated key:
// the last, as PostgreSQL's jsonb keeps it). Empty: absent.
struct TypedFields {
  std::string_view id, status, sim, package_template, created_date, activated_date, expiry_date;

  bool take(const std::string& key, std::string_view value) {
    std::string_view* slot = key == "id"                 ? &id
                             : key == "status"           ? &status
                             : key == "sim"              ? &sim
                             : key == "package_template" ? &package_template
                             : key == "created_date"     ? &created_date
                             : key == "activated_date"   ? &activated_date
                             : key == "expiry_date"      ? &expiry_date
                                                         : nullptr;
    if (slot != nullptr) *slot = value;
    return slot != nullptr;
  }
};

// A wrong shape in one package: the page fails once all of its bytes are checked.
struct ShapeProblem {
  std::string what;
};

// Reads the typed fields of one package. A wrong shape (no id, a date that is not a number)
// fails the page; an odd value (a number beyond 64 bits) becomes NULL with a warning, so one
// odd package never stops the mirror.
class TypedReader {
 public:
  TypedReader(const TypedFields& fields, std::int64_t offset, std::size_t index, std::vector<std::string>& warnings)
      : fields_(fields), offset_(offset), index_(index), warnings_(warnings) {}

  Package read();
  // A warning about this package (after read(): it names the id).
  void warn(const std::string& what) const;

 private:
  [[noreturn]] void problem(const std::string& what) const;
  void out_of_range(const char* key, std::string_view value) const;
  std::string required_string(const char* key, std::string_view value) const;
  std::optional<std::string> optional_string(const char* key, std::string_view value) const;
  static std::string too_long(const std::string& text);
  std::optional<std::int64_t> optional_millis(const char* key, std::string_view value) const;
  // An integer in the documented API; an object {"id": ..., "name": ...} in one SDK revision.
  std::optional<std::int64_t> template_id() const;

  const TypedFields& fields_;
  std::int64_t offset_;
  std::size_t index_;
  std::vector<std::string>& warnings_;
  std::string id_;  // set once the id is read
};

}  // namespace esim
