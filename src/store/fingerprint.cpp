#include "store/fingerprint.h"

#define XXH_INLINE_ALL  // header-only: nothing to link, nothing more to ship
#include <xxhash.h>

namespace esim {

std::string fingerprint_uuid(std::string_view raw_json) {
  const XXH128_hash_t hash = XXH3_128bits_withSeed(raw_json.data(), raw_json.size(), kFingerprintRules);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t at = 0;
  auto put = [&](unsigned long long half) {
    for (int shift = 60; shift >= 0; shift -= 4) {
      if (at == 8 || at == 13 || at == 18 || at == 23) ++at;  // the dashes
      out[at++] = kHex[(half >> shift) & 0xF];
    }
  };
  put(hash.high64);
  put(hash.low64);
  return out;
}

}  // namespace esim
