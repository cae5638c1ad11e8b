#include "api/page_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "util/json_reader.h"
#include "util/time_format.h"

namespace esim {

namespace {

using util::JsonReader;
using util::Unstorable;
using Type = JsonReader::Type;

// The envelope is one level and "packages" another, around each package.
constexpr int kEnvelopeFieldNesting = kMaxPackageNesting + 2;
constexpr int kPackageElementNesting = kMaxPackageNesting + 1;

[[noreturn]] void fail(std::int64_t offset, const std::string& problem) {
  throw PayloadError("page at offset " + std::to_string(offset) + ": " + problem);
}

// At most `max` bytes of `text` (UTF-8, as the reader checked it), "..." in place of the rest. The
// cut steps back to the start of a character: half of one is text that PostgreSQL refuses (the
// run's error could not be recorded) and that JSON logs cannot carry.
std::string shortened(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string describe(std::string_view raw) { return shortened(raw, 60); }

bool absent(std::string_view value) { return value.empty() || value == "null"; }
bool is_number(std::string_view value) { return !value.empty() && (value[0] == '-' || (value[0] >= '0' && value[0] <= '9')); }
bool is_string(std::string_view value) { return !value.empty() && value[0] == '"'; }

// An integer that fits in 64 bits, from 1761330317000 or 1761330317000.0 (the same instant).
// nullopt for a number beyond int64 (18446744073709551615, 2^63, 1e30) or with a fraction.
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

  Package read() {
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

  void warn(const std::string& what) const {
    warnings_.push_back("page at offset " + std::to_string(offset_) + ": package " + shown_id(id_) + ": " + what);
  }

 private:
  [[noreturn]] void problem(const std::string& what) const {
    std::string who = "package #" + std::to_string(index_);
    if (is_string(fields_.id)) who += " (id " + shown_id(util::unescape_json_string(fields_.id)) + ")";
    throw ShapeProblem{who + " " + what};
  }

  void out_of_range(const char* key, std::string_view value) const {
    warn(std::string("\"") + key + "\" is " + describe(value) + ", beyond 64 bits; stored as NULL");
  }

  std::string required_string(const char* key, std::string_view value) const {
    if (absent(value)) problem(std::string("has no \"") + key + "\"");
    std::string text = is_string(value) ? util::unescape_json_string(value) : std::string();
    if (text.empty()) problem(std::string("has \"") + key + "\" that is not a non-empty string: " + describe(value));
    if (text.size() > kMaxIndexedTextBytes) problem(std::string("has \"") + key + "\" " + too_long(text));
    return text;
  }

  std::optional<std::string> optional_string(const char* key, std::string_view value) const {
    if (absent(value)) return std::nullopt;
    if (!is_string(value)) problem(std::string("has \"") + key + "\" that is not a string: " + describe(value));
    std::string text = util::unescape_json_string(value);
    if (text.size() > kMaxIndexedTextBytes) {
      warn(std::string("\"") + key + "\" " + too_long(text) + "; stored as NULL");
      return std::nullopt;
    }
    return text;
  }

  static std::string too_long(const std::string& text) {
    return "of " + std::to_string(text.size()) + " bytes, more than " + std::to_string(kMaxIndexedTextBytes);
  }

  std::optional<std::int64_t> optional_millis(const char* key, std::string_view value) const {
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
  std::optional<std::int64_t> template_id() const {
    std::string_view id = fields_.package_template;
    if (absent(id)) return std::nullopt;
    if (id[0] == '{') {
      id = {};
      JsonReader object(fields_.package_template);  // checked already: cannot fail
      object.enter_object();
      std::string key;
      while (object.next_field(key)) {
        std::string_view value = object.skip_value(kMaxPackageNesting);
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

  const TypedFields& fields_;
  std::int64_t offset_;
  std::size_t index_;
  std::vector<std::string>& warnings_;
  std::string id_;  // set once the id is read
};

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
      std::string_view value = json_.skip_value(kEnvelopeFieldNesting + 1);
      json_.finish();
      fail(offset_, "response is not a JSON object: " + describe(value));
    }
    json_.enter_object();
    std::string key;
    while (json_.next_field(key)) {
      if (key == "packages") {
        read_packages();
      } else if (key == "total") {
        total_ = json_.skip_value(kEnvelopeFieldNesting);
      } else {
        json_.skip_value(kEnvelopeFieldNesting);
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
      packages_not_array_ = describe(json_.skip_value(kEnvelopeFieldNesting));
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
      std::string_view value = json_.skip_value(kPackageElementNesting);
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
      std::string_view value = json_.skip_value(kMaxPackageNesting);
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

std::string shown_id(const std::string& id) { return shortened(id, 80); }

}  // namespace esim
