#include "api/guarded_json.h"

#include <cstring>

#include "api/page_parser.h"

namespace esim {

using nlohmann::json;

namespace {

// The envelope is depth 0, "packages" depth 1, a package object depth 2 (nlohmann's callback
// reports a container's depth before entering it).
constexpr int kPackageDepth = 2;

bool replace_nul(std::string& text) {
  if (std::memchr(text.data(), '\0', text.size()) == nullptr) return false;
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '\0') {
      out += kNulReplacement;
    } else {
      out += c;
    }
  }
  text = std::move(out);
  return true;
}

// Follows the parse event by event: which envelope key, which package, which of its fields.
class Guard {
 public:
  Guard(std::int64_t offset, std::vector<PackageNotes>& notes) : offset_(offset), notes_(notes) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    const bool starts = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (depth == kPackageDepth && in_packages_ && (starts || event == json::parse_event_t::value)) {
      notes_.emplace_back();  // a new element of "packages"
      package_id_.clear();
      field_.clear();
    }
    if (starts && depth > kPackageDepth + kMaxPackageNesting) too_deep(depth);
    if (event == json::parse_event_t::key) {
      const std::string& raw_key = parsed.get_ref<const std::string&>();
      const bool had_nul = std::memchr(raw_key.data(), '\0', raw_key.size()) != nullptr;
      if (depth == 1) {
        in_packages_ = raw_key == "packages";
        if (in_packages_) notes_.clear();  // a repeated "packages" replaces the earlier one
      } else if (depth == kPackageDepth + 1 && in_packages_) {
        field_ = raw_key;
        if (had_nul) replace_nul(field_);
      }
      if (had_nul && in_packages_ && depth > kPackageDepth && !notes_.empty()) {
        notes_.back().nul_in_keys = true;
        note_nul_field();
      }
    } else if (event == json::parse_event_t::value && parsed.is_string()) {
      std::string& text = parsed.get_ref<std::string&>();
      if (replace_nul(text) && in_packages_ && depth > kPackageDepth && !notes_.empty()) note_nul_field();
      if (in_packages_ && depth == kPackageDepth + 1 && field_ == "id") package_id_ = text;
    }
    return true;
  }

 private:
  void note_nul_field() {
    auto& fields = notes_.back().nul_fields;
    for (const auto& f : fields) {
      if (f == field_) return;
    }
    fields.push_back(field_);
  }

  [[noreturn]] void too_deep(int depth) const {
    std::string what = "page at offset " + std::to_string(offset_) + ": ";
    if (in_packages_ && depth > kPackageDepth && !notes_.empty()) {
      what += "package #" + std::to_string(notes_.size() - 1);
      if (!package_id_.empty()) what += " (id " + shown_id(package_id_) + ")";
      if (!field_.empty()) what += " field \"" + shown_id(field_) + "\"";
      what += " nests deeper than " + std::to_string(kMaxPackageNesting) + " levels";
    } else {
      what += "response nests deeper than " + std::to_string(kPackageDepth + kMaxPackageNesting) + " levels";
    }
    throw PayloadError(what + "; refused before building it");
  }

  std::int64_t offset_;
  std::vector<PackageNotes>& notes_;
  bool in_packages_ = false;  // inside the envelope's "packages"
  std::string package_id_;    // the current package's "id", once read
  std::string field_;         // the current package's top-level field
};


// Whether the body can skip the guard: no escaped NUL (backslash, u0000) in any string and no
// nesting beyond the bound.
// One pass over the bytes, much cheaper than the guard's callback on every token; nearly every
// page of a real listing takes this way.
bool needs_no_guard(const std::string& body) {
  constexpr int kDeepest = kPackageDepth + kMaxPackageNesting;
  const char* p = body.data();
  const char* const end = p + body.size();
  int depth = 0;
  while (p < end) {
    const char c = *p++;
    if (c == '"') {
      while (p < end && *p != '"') {
        if (*p == '\\') {
          if (end - p >= 6 && std::memcmp(p + 1, "u0000", 5) == 0) return false;
          ++p;  // the escaped character, whatever it is
        }
        ++p;
      }
      ++p;  // the closing quote
    } else if (c == '[' || c == '{') {
      if (++depth > kDeepest) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

GuardedPage parse_guarded(const std::string& body, std::int64_t offset) {
  GuardedPage page;
  Guard guard(offset, page.notes);
  try {
    if (needs_no_guard(body)) {
      page.envelope = json::parse(body);
      return page;
    }
    page.envelope = json::parse(body, std::ref(guard));
  } catch (const json::parse_error& e) {
    throw PayloadError("page at offset " + std::to_string(offset) + ": response is not valid JSON (" + e.what() + ")");
  }
  return page;
}

void replace_nul_in_keys(json& value) {
  if (value.is_array()) {
    for (auto& element : value) replace_nul_in_keys(element);
    return;
  }
  if (!value.is_object()) return;
  json cleaned = json::object();
  for (auto& [key, element] : value.items()) {
    std::string name = key;
    replace_nul(name);
    replace_nul_in_keys(element);
    cleaned[name] = std::move(element);
  }
  value = std::move(cleaned);
}

std::string shown_id(const std::string& id) {
  return id.size() > 80 ? id.substr(0, 77) + "..." : id;
}

}  // namespace esim
