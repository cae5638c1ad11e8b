#include "api/page_parser.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace esim {

using nlohmann::json;

bool is_documented_status(const std::string& status) {
  return status == "NOT_ACTIVE" || status == "ACTIVE" || status == "SUSPENDED" ||
         status == "TERMINATED";
}

namespace {

[[noreturn]] void fail(std::int64_t offset, const std::string& problem) {
  throw PayloadError("page at offset " + std::to_string(offset) + ": " + problem);
}

// JSON numbers may arrive as 1761330317000 or 1761330317000.0; both are the same instant.
std::optional<std::int64_t> as_integer(const json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

std::string describe(const json& value) {
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

class PackageReader {
 public:
  PackageReader(const json& object, std::int64_t offset, std::size_t index)
      : object_(object), offset_(offset), index_(index) {}

  Package read() {
    if (!object_.is_object()) problem("is not an object: " + describe(object_));
    Package p;
    p.id = required_string("id");
    p.status = required_string("status");
    p.sim = optional_string("sim");
    p.package_template = template_id();
    p.created_date = optional_millis("created_date");
    p.activated_date = optional_millis("activated_date");
    p.expiry_date = optional_millis("expiry_date");
    p.raw_json = object_.dump();
    return p;
  }

 private:
  [[noreturn]] void problem(const std::string& what) const {
    std::string who = "package #" + std::to_string(index_);
    auto id = object_.is_object() ? object_.find("id") : object_.end();
    if (object_.is_object() && id != object_.end() && id->is_string()) {
      who += " (id " + id->get<std::string>() + ")";
    }
    fail(offset_, who + " " + what);
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
    auto value = as_integer(*it);
    if (!value) problem(std::string("has \"") + key + "\" that is not epoch milliseconds: " + describe(*it));
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
    if (auto value = as_integer(*id)) return value;
    if (id->is_string()) {
      const std::string& text = id->get_ref<const std::string&>();
      std::size_t used = 0;
      try {
        long long value = std::stoll(text, &used);
        if (used == text.size()) return value;
      } catch (const std::exception&) {
      }
    }
    problem("has a \"package_template\" without an integer id: " + describe(*it));
  }

  const json& object_;
  std::int64_t offset_;
  std::size_t index_;
};

}  // namespace

Page parse_packages_page(const std::string& body, std::int64_t offset) {
  json envelope;
  try {
    envelope = json::parse(body);
  } catch (const json::parse_error& e) {
    fail(offset, std::string("response is not valid JSON (") + e.what() + ")");
  }
  if (!envelope.is_object()) fail(offset, "response is not a JSON object: " + describe(envelope));

  Page page;
  page.offset = offset;
  auto total = envelope.find("total");
  if (total == envelope.end()) fail(offset, "response has no \"total\"");
  auto total_value = as_integer(*total);
  if (!total_value || *total_value < 0) {
    fail(offset, "\"total\" is not a non-negative integer: " + describe(*total));
  }
  page.total = *total_value;

  auto packages = envelope.find("packages");
  if (packages == envelope.end()) fail(offset, "response has no \"packages\"");
  if (!packages->is_array()) fail(offset, "\"packages\" is not an array: " + describe(*packages));
  page.packages.reserve(packages->size());
  for (std::size_t i = 0; i < packages->size(); ++i) {
    page.packages.push_back(PackageReader((*packages)[i], offset, i).read());
  }
  return page;
}

}  // namespace esim
