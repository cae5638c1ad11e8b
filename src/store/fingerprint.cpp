#include "store/fingerprint.h"

#define XXH_INLINE_ALL  // header-only: nothing to link, nothing more to ship
#include <xxhash.h>

namespace esim {

namespace {

Hash128 of(const XXH128_hash_t& hash) { return {hash.high64, hash.low64}; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {

// The 32 hex digits, with a uuid's dashes or without.
std::string hex_digits(const Hash128& hash, bool dashes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(dashes ? 36 : 32, '-');
  std::size_t at = 0;
  auto put = [&](unsigned long long half) {
    for (int shift = 60; shift >= 0; shift -= 4) {
      if (dashes && (at == 8 || at == 13 || at == 18 || at == 23)) ++at;
      out[at++] = kHex[(half >> shift) & 0xF];
    }
  };
  put(hash.high);
  put(hash.low);
  return out;
}

}  // namespace

std::string as_uuid(const Hash128& hash) { return hex_digits(hash, true); }

std::string as_hex(const Hash128& hash) { return hex_digits(hash, false); }

bool parse_uuid(std::string_view text, Hash128& out) {
  if (text.size() != 36) return false;
  std::uint64_t halves[2] = {0, 0};
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    const int v = hex_value(text[i]);
    if (v < 0) return false;
    std::uint64_t& half = halves[digits / 16];
    half = half << 4 | static_cast<std::uint64_t>(v);
    ++digits;
  }
  out = {halves[0], halves[1]};
  return true;
}

Hash128 fingerprint(std::string_view raw_json) {
  return of(XXH3_128bits_withSeed(raw_json.data(), raw_json.size(), kFingerprintRules));
}

std::string fingerprint_uuid(std::string_view raw_json) { return as_uuid(fingerprint(raw_json)); }

std::string stable_fingerprint_uuid(std::string_view raw_json,
                                    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& volatile_spans) {
  if (volatile_spans.empty()) return fingerprint_uuid(raw_json);
  XXH3_state_t state{};  // zeroed: the reset reads fields before it sets them
  XXH3_128bits_reset_withSeed(&state, kFingerprintRules);
  std::size_t from = 0;
  for (const auto& [at, length] : volatile_spans) {  // in text order, as the parser found them
    if (at < from || at + static_cast<std::size_t>(length) > raw_json.size()) return fingerprint_uuid(raw_json);
    XXH3_128bits_update(&state, raw_json.data() + from, at - from);
    from = at + static_cast<std::size_t>(length);
  }
  XXH3_128bits_update(&state, raw_json.data() + from, raw_json.size() - from);
  return as_uuid(of(XXH3_128bits_digest(&state)));
}

}  // namespace esim
