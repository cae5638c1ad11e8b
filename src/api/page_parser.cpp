#include "api/page_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/package_fields.h"
#include "util/utf8.h"
#include "util/json_reader.h"
#include "util/time_format.h"

namespace esim {

namespace {

using util::JsonReader;
using util::Unstorable;
using Type = JsonReader::Type;
using json_text::describe;
using json_text::as_int64;
using json_text::is_number;
using json_text::is_string;

// The envelope is one level and "packages" another, around each package.
constexpr int kEnvelopeFieldNesting = kMaxPackageNesting + 2;
constexpr int kPackageElementNesting = kMaxPackageNesting + 1;

[[noreturn]] void fail(std::int64_t offset, const std::string& problem) {
  throw PayloadError("page at offset " + std::to_string(offset) + ": " + problem);
}

std::string odd_value_warning(const std::string& field, const Unstorable& odd, std::string_view body) {
  const std::string name = "\"" + shown_id(field) + "\"";
  switch (odd.kind) {
    case Unstorable::Kind::kNul: return name + " held \\u0000, replaced by U+FFFD";
    case Unstorable::Kind::kLoneSurrogate: return name + " held an unpaired surrogate escape, replaced by U+FFFD";
    case Unstorable::Kind::kNumber: break;
  }
  return name + " held a number beyond what PostgreSQL's numeric holds (" + describe(body.substr(odd.at, odd.length)) +
         "); stored as null";
}

// RFC 8259 lets a parser ignore a byte order mark before the text; nlohmann's, which read the
// pages before JsonReader did, ignored one, so a server that sends it kept working.
std::string_view without_bom(const std::string& body) {
  std::string_view text(body);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

// One page, read in one pass: the envelope, then each element of "packages" as it comes.
class PageReader {
 public:
  PageReader(const std::string& body, std::int64_t offset) : body_(without_bom(body)), offset_(offset), json_(body_) {
    page_.offset = offset;
  }

  Page read() {
    try {
      read_envelope();
    } catch (const util::JsonError& e) {
      if (e.kind() == util::JsonError::Kind::kTooDeep) too_deep();
      fail(offset_, std::string("response is not valid JSON (") + e.what() + ")");
    }
    // Every byte is checked: now the shape.
    if (!total_) fail(offset_, "response has no \"total\"");
    auto total = is_number(*total_) ? as_int64(*total_) : std::nullopt;
    if (!total || *total < 0) fail(offset_, "\"total\" is not a non-negative integer: " + describe(*total_));
    page_.total = *total;
    if (!packages_seen_) fail(offset_, "response has no \"packages\"");
    if (packages_not_array_) fail(offset_, "\"packages\" is not an array: " + *packages_not_array_);
    if (package_problem_) fail(offset_, *package_problem_);
    return std::move(page_);
  }

 private:
  void read_envelope() {
    if (json_.peek() != Type::kObject) {
      std::string_view value = json_.raw_value(kEnvelopeFieldNesting + 1);
      json_.finish();
      fail(offset_, "response is not a JSON object: " + describe(value));
    }
    json_.enter_object();
    std::string key;
    while (json_.next_field(key)) {
      if (key == "packages") {
        read_packages();
      } else if (key == "total") {
        total_ = json_.raw_value(kEnvelopeFieldNesting);
      } else {
        json_.raw_value(kEnvelopeFieldNesting);
      }
    }
    json_.finish();
  }

  // A repeated "packages" replaces the earlier one, as a JSON object's later key does.
  void read_packages() {
    packages_seen_ = true;
    packages_not_array_.reset();
    package_problem_.reset();
    page_.packages.clear();
    page_.warnings.clear();
    if (json_.peek() != Type::kArray) {
      packages_not_array_ = describe(json_.raw_value(kEnvelopeFieldNesting));
      return;
    }
    json_.enter_array();
    for (std::size_t index = 0; json_.next_element(); ++index) read_package(index);
  }

  void read_package(std::size_t index) {
    in_package_ = true;
    package_index_ = index;
    fields_ = TypedFields{};
    field_.clear();
    if (json_.peek() != Type::kObject) {
      std::string_view value = json_.raw_value(kPackageElementNesting);
      note_problem("package #" + std::to_string(index) + " is not an object: " + describe(value));
      in_package_ = false;
      return;
    }
    const std::size_t start = json_.value_start();
    const std::size_t odd_before = json_.unstorable().size();
    std::vector<std::pair<std::string, std::size_t>> odd_fields;  // field, index into unstorable()
    json_.enter_object();
    for (;;) {
      const std::size_t odd_in_key = json_.unstorable().size();
      if (!json_.next_field(field_)) break;
      std::string_view value = json_.raw_value(kMaxPackageNesting);
      // A number PostgreSQL cannot hold is null in raw, and so in its typed column too (as a
      // date, 0e1073741823 would otherwise be 1970).
      if (json_.unstorable().size() > odd_in_key) {
        const Unstorable& last = json_.unstorable().back();
        if (last.kind == Unstorable::Kind::kNumber && body_.data() + last.at == value.data() &&
            last.length == value.size()) {
          value = "null";
        }
      }
      fields_.take(field_, value);
      for (std::size_t i = odd_in_key; i < json_.unstorable().size(); ++i) odd_fields.emplace_back(field_, i);
    }
    in_package_ = false;
    if (package_problem_) return;  // the page fails anyway: only check the bytes
    const std::string_view raw(body_.data() + start, json_.position() - start);
    try {
      TypedReader reader(fields_, offset_, index, page_.warnings);
      Package package = reader.read();
      if (odd_fields.empty()) {
        package.raw_json.assign(raw.data(), raw.size());
      } else {
        const auto& odd = json_.unstorable();
        package.raw_json = util::replace_unstorable(
            raw, start, std::vector<Unstorable>(odd.begin() + static_cast<std::ptrdiff_t>(odd_before), odd.end()));
        warn_odd_values(reader, odd_fields);
      }
      page_.packages.push_back(std::move(package));
    } catch (const ShapeProblem& problem) {
      note_problem(problem.what);
    }
  }

  // Once for each field and kind of odd value, however many it held; after a few, only how many
  // more: a package with an odd value in each of 100,000 fields must not take 100,000 log lines
  // every pass (nor a search of those told for each).
  void warn_odd_values(const TypedReader& reader, const std::vector<std::pair<std::string, std::size_t>>& odd_fields) {
    constexpr std::size_t kNamed = 10;
    std::set<std::pair<std::string, Unstorable::Kind>> told;
    std::size_t more = 0;
    for (const auto& [field, i] : odd_fields) {
      const Unstorable& odd = json_.unstorable()[i];
      if (!told.emplace(field, odd.kind).second) continue;
      if (told.size() > kNamed) {
        ++more;
      } else {
        reader.warn(odd_value_warning(field, odd, body_));
      }
    }
    if (more > 0) {
      reader.warn(std::to_string(more) + " more odd values (\\u0000, unpaired surrogates, numbers beyond numeric) replaced");
    }
  }

  void note_problem(const std::string& what) {
    if (!package_problem_) package_problem_ = what;
  }

  [[noreturn]] void too_deep() const {
    std::string what;
    if (in_package_) {
      what = "package #" + std::to_string(package_index_);
      if (is_string(fields_.id)) what += " (id " + shown_id(util::unescape_json_string(fields_.id)) + ")";
      if (!field_.empty()) what += " field \"" + shown_id(field_) + "\"";
      what += " nests deeper than " + std::to_string(kMaxPackageNesting) + " levels";
    } else {
      what = "response nests deeper than " + std::to_string(kEnvelopeFieldNesting) + " levels";
    }
    fail(offset_, what + "; refused before building it");
  }

  const std::string_view body_;  // what JsonReader reads: its offsets are into this
  std::int64_t offset_;
  JsonReader json_;
  Page page_;
  std::optional<std::string_view> total_;
  bool packages_seen_ = false;
  std::optional<std::string> packages_not_array_;
  std::optional<std::string> package_problem_;  // the first wrong shape among the packages
  // Where the reader is, for a message about nesting: which package, its id, which field.
  bool in_package_ = false;
  std::size_t package_index_ = 0;
  TypedFields fields_;
  std::string field_;
};

}  // namespace

Page parse_packages_page(const std::string& body, std::int64_t offset) { return PageReader(body, offset).read(); }

// Read as a page of one, so that a package read by id passes exactly the checks (and odd-value
// replacements) of a listed one.
Package parse_package_body(const std::string& body, const std::string& asked_id) {
  std::string object = body;
  try {
    auto parsed = nlohmann::json::parse(body);
    if (parsed.is_object() && !parsed.contains("id") && parsed.contains("package") && parsed["package"].is_object()) {
      object = parsed["package"].dump();
    }
  } catch (const nlohmann::json::exception&) {
    // Not JSON: the page reader below says what is wrong with it.
  }
  try {
    Page page = parse_packages_page("{\"total\":1,\"packages\":[" + object + "]}", 0);
    if (page.packages.size() != 1) throw PayloadError("not one package object");
    return std::move(page.packages.front());
  } catch (const PayloadError& e) {
    throw PayloadError("GET /packages/" + shown_id(asked_id) + ": " + e.what());
  }
}

std::string shown_id(const std::string& id) { return util::shortened(id, 80); }

}  // namespace esim
