#pragma once
// The fingerprint by which a pass finds the packages that may have changed: a 128-bit hash of
// the package's JSON text, as a uuid for PostgreSQL. Computed here, while paging, so the
// database compares 16 bytes per package instead of hashing every raw text itself.
// Equal fingerprints mean the same text, and so the same typed fields; different ones only mean
// "compare the fields and the jsonb" (the same JSON may be written with other whitespace).
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <cstdint>

namespace esim {

// The typed fields are read from the text by the page parser's rules; when those rules change,
// so that the same text could give other fields, this number changes, and the next pass
// compares every package once.
inline constexpr unsigned long long kFingerprintRules = 2;  // 2: a sim too long to index is NULL

// A 128-bit hash: a package's fingerprint, or a chunk's digest (store/listing_chunks.h).
struct Hash128 {
  std::uint64_t high = 0, low = 0;
  bool operator==(const Hash128& o) const { return high == o.high && low == o.low; }
  bool operator<(const Hash128& o) const { return high != o.high ? high < o.high : low < o.low; }
};

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", PostgreSQL's text form of a uuid, and back (false
// for anything else).
std::string as_uuid(const Hash128& hash);
bool parse_uuid(std::string_view text, Hash128& out);

Hash128 fingerprint(std::string_view raw_json);
std::string fingerprint_uuid(std::string_view raw_json);

// The stable fingerprint: of the text without the values of its volatile fields (the spans the
// parser noted), so that a pass tells at once "only volatile fields changed" from a change that
// makes a version. Equal stable fingerprints mean equal text outside those values (a gap is
// always right after a key's colon, which valid JSON never leaves empty, so two texts cannot
// meet by shifting a gap); without spans it is the fingerprint of the whole text.
std::string stable_fingerprint_uuid(std::string_view raw_json,
                                    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& volatile_spans);

}  // namespace esim
