#pragma once
// Parses one page body with the two guards that must act while parsing, before any tree exists:
// a bound on nesting depth (a deep unknown field would otherwise crash the recursive dump, or
// PostgreSQL's jsonb input), and the replacement of U+0000 in every string and key (PostgreSQL
// text and jsonb cannot hold it).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace esim {

// Containers may nest this many levels inside one package object ("a": [[1]] is two levels).
inline constexpr int kMaxPackageNesting = 64;

// What \u0000 becomes: U+FFFD REPLACEMENT CHARACTER, as UTF-8.
inline constexpr const char* kNulReplacement = "\xEF\xBF\xBD";

// What the parse noticed about one element of "packages", by index.
struct PackageNotes {
  std::vector<std::string> nul_fields;  // top-level fields whose value (or name) held \u0000
  bool nul_in_keys = false;             // a key somewhere in the package held \u0000
};

struct GuardedPage {
  nlohmann::json envelope;
  std::vector<PackageNotes> notes;  // one per element of "packages" (may be shorter: none seen)
};

// Throws PayloadError naming the offset (and the package, where known) for invalid JSON or
// nesting beyond the bound.
GuardedPage parse_guarded(const std::string& body, std::int64_t offset);

// Replaces \u0000 in every key of `value`, at any depth (bounded by the parse). Strings were
// already cleaned while parsing; keys cannot be changed from nlohmann's parser callback.
void replace_nul_in_keys(nlohmann::json& value);

// An id as shown in messages: at most 80 characters.
std::string shown_id(const std::string& id);

}  // namespace esim
