#pragma once
// Turns one response body of GET /packages into a Page, or says exactly what is wrong with it.
// One pass over the bytes (util::JsonReader): every byte is checked, the few fields the mirror
// types are read, and each package keeps the text the API sent as its raw JSON, not a re-dump.
#include <stdexcept>
#include <string>

#include "domain/failure.h"
#include "domain/package.h"

namespace esim {

// Containers may nest this many levels inside one package object ("a": [[1]] is two levels):
// a deep unknown field would otherwise crash a recursive reader, or PostgreSQL's jsonb input.
inline constexpr int kMaxPackageNesting = 64;

// id, status and sim are indexed in PostgreSQL, whose btree entries hold at most 2704 bytes
// (compressed, when the text compresses): a longer id or status is a wrong shape, a longer sim an
// odd value (NULL, with a warning). Below the limit, with room for the other columns of an entry.
inline constexpr std::size_t kMaxIndexedTextBytes = 2000;

// A response that is not the documented shape. The message names the page offset.
class PayloadError : public Failure {
 public:
  explicit PayloadError(const std::string& message) : Failure(FailureKind::kPayload, message) {}
};

// Odd values that valid JSON may hold but PostgreSQL cannot (\u0000, an unpaired surrogate
// escape, a number beyond numeric) are replaced in the raw JSON and the typed fields (U+FFFD,
// null) with a warning naming the package and field; a number beyond 64 bits in a typed field
// is NULL with a warning. Only a wrong shape fails the page.
Page parse_packages_page(const std::string& body, std::int64_t offset);

// The body of GET /packages/{id}: the package object itself, or {"package": {...}}. The
// message of a PayloadError names the id asked for.
Package parse_package_body(const std::string& body, const std::string& asked_id);

// An id as shown in messages: at most 80 characters.
std::string shown_id(const std::string& id);

}  // namespace esim
