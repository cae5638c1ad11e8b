#include "api/page_parser.h"

#include "util/time_format.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "api/guarded_json.h"

namespace esim {

using nlohmann::json;

namespace {

[[noreturn]] void fail(std::int64_t offset, const std::string& problem) {
  throw PayloadError("page at offset " + std::to_string(offset) + ": " + problem);
}

// An integer that fits in 64 bits, from 1761330317000 or 1761330317000.0 (the same instant).
// nullopt for a number beyond int64 (18446744073709551615, 2^63, 1e30) or with a fraction.
std::optional<std::int64_t> as_int64(const json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    // 2^63 is exact as a double; [-2^63, 2^63) converts without overflow.
    if (std::isfinite(d) && d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

std::string describe(const json& value) {
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

// Reads one package. A wrong shape (no id, a date that is not a number) fails the page; an odd
// value (a number beyond 64 bits) becomes NULL with a warning, so one odd package never stops
// the mirror.
class PackageReader {
 public:
  PackageReader(json& object, const PackageNotes& notes, std::int64_t offset, std::size_t index,
                std::vector<std::string>& warnings)
      : object_(object), notes_(notes), offset_(offset), index_(index), warnings_(warnings) {}

  Package read() {
    if (!object_.is_object()) problem("is not an object: " + describe(object_));
    if (notes_.nul_in_keys) replace_nul_in_keys(object_);
    Package p;
    p.id = required_string("id");
    id_ = &p.id;
    p.status = required_string("status");
    p.sim = optional_string("sim");
    p.package_template = template_id();
    p.created_date = optional_millis("created_date");
    p.activated_date = optional_millis("activated_date");
    p.expiry_date = optional_millis("expiry_date");
    for (const auto& field : notes_.nul_fields) {
      warn("\"" + shown_id(field) + "\" held \\u0000, replaced by U+FFFD");
    }
    p.raw_json = object_.dump();
    return p;
  }

 private:
  [[noreturn]] void problem(const std::string& what) const {
    std::string who = "package #" + std::to_string(index_);
    auto id = object_.is_object() ? object_.find("id") : object_.end();
    if (object_.is_object() && id != object_.end() && id->is_string()) {
      who += " (id " + shown_id(id->get<std::string>()) + ")";
    }
    fail(offset_, who + " " + what);
  }

  void warn(const std::string& what) const {
    warnings_.push_back("page at offset " + std::to_string(offset_) + ": package " + shown_id(*id_) + ": " + what);
  }

  void out_of_range(const char* key, const json& value) const {
    warn(std::string("\"") + key + "\" is " + describe(value) + ", beyond 64 bits; stored as NULL");
  }

  std::string required_string(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) problem(std::string("has no \"") + key + "\"");
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      problem(std::string("has \"") + key + "\" that is not a non-empty string: " + describe(*it));
    }
    return it->get<std::string>();
  }

  std::optional<std::string> optional_string(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) problem(std::string("has \"") + key + "\" that is not a string: " + describe(*it));
    return it->get<std::string>();
  }

  std::optional<std::int64_t> optional_millis(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) problem(std::string("has \"") + key + "\" that is not epoch milliseconds: " + describe(*it));
    auto value = as_int64(*it);
    if (!value) out_of_range(key, *it);
    if (value && !util::epoch_ms_fits_timestamptz(*value)) {
      warn(std::string("\"") + key + "\" is " + std::to_string(*value) + ", beyond what timestamptz holds; stored as " +
           (*value > 0 ? "infinity" : "-infinity"));
    }
    return value;
  }

  // An integer in the documented API; an object {"id": ..., "name": ...} in one SDK revision.
  std::optional<std::int64_t> template_id() const {
    auto it = object_.find("package_template");
    if (it == object_.end() || it->is_null()) return std::nullopt;
    const json* id = &*it;
    if (it->is_object()) {
      auto inner = it->find("id");
      if (inner == it->end() || inner->is_null()) return std::nullopt;
      id = &*inner;
    }
    if (id->is_number()) {
      auto value = as_int64(*id);
      if (!value) out_of_range("package_template", *id);
      return value;
    }
    if (id->is_string()) {
      const std::string& text = id->get_ref<const std::string&>();
      std::size_t used = 0;
      try {
        long long value = std::stoll(text, &used);
        if (used == text.size()) return value;
      } catch (const std::out_of_range&) {
        out_of_range("package_template", *id);
        return std::nullopt;
      } catch (const std::exception&) {
      }
    }
    problem("has a \"package_template\" without an integer id: " + describe(*it));
  }

  json& object_;
  const PackageNotes& notes_;
  std::int64_t offset_;
  std::size_t index_;
  std::vector<std::string>& warnings_;
  const std::string* id_ = nullptr;  // set once the id is read
};

}  // namespace

Page parse_packages_page(const std::string& body, std::int64_t offset) {
  GuardedPage parsed = parse_guarded(body, offset);
  json& envelope = parsed.envelope;
  if (!envelope.is_object()) fail(offset, "response is not a JSON object: " + describe(envelope));

  Page page;
  page.offset = offset;
  auto total = envelope.find("total");
  if (total == envelope.end()) fail(offset, "response has no \"total\"");
  auto total_value = total->is_number() ? as_int64(*total) : std::nullopt;
  if (!total_value || *total_value < 0) {
    fail(offset, "\"total\" is not a non-negative integer: " + describe(*total));
  }
  page.total = *total_value;

  auto packages = envelope.find("packages");
  if (packages == envelope.end()) fail(offset, "response has no \"packages\"");
  if (!packages->is_array()) fail(offset, "\"packages\" is not an array: " + describe(*packages));
  page.packages.reserve(packages->size());
  parsed.notes.resize(packages->size());
  for (std::size_t i = 0; i < packages->size(); ++i) {
    page.packages.push_back(PackageReader((*packages)[i], parsed.notes[i], offset, i, page.warnings).read());
  }
  return page;
}

}  // namespace esim
