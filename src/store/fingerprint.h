#pragma once
// The fingerprint by which a pass finds the packages that may have changed: a 128-bit hash of
// the package's JSON text, as a uuid for PostgreSQL. Computed here, while paging, so the
// database compares 16 bytes per package instead of hashing every raw text itself.
// Equal fingerprints mean the same text, and so the same typed fields; different ones only mean
// "compare the fields and the jsonb" (the same JSON may be written with other whitespace).
#include <string>
#include <string_view>

namespace esim {

// The typed fields are read from the text by the page parser's rules; when those rules change,
// so that the same text could give other fields, this number changes, and the next pass
// compares every package once.
inline constexpr unsigned long long kFingerprintRules = 2;  // 2: a sim too long to index is NULL

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", PostgreSQL's text form of a uuid.
std::string fingerprint_uuid(std::string_view raw_json);

}  // namespace esim
