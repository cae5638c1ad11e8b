// Top-ups: an ACTIVE package whose expiry moves later (a reseller extends a customer's plan), so
// the demo and the tests have expiry extensions to find. Only the expiry changes: the status
// stays ACTIVE, which is what tells an extension from the expiry set at activation.
#include "catalog.h"

namespace sim {

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
}

int Catalog::top_up(double fraction, int days) {
  std::unique_lock lock(mutex_);
  const auto n = static_cast<std::int64_t>(listed_.size());
  const auto tries = static_cast<std::int64_t>(static_cast<double>(n) * fraction);
  int extended = 0;
  for (std::int64_t i = 0; i < tries && n > 0; ++i) {
    SimPackage& p = listed_[rng_() % static_cast<std::uint64_t>(n)];
    if (p.status != "ACTIVE" || !p.expiry_ms) continue;
    *p.expiry_ms += days * kDayMs;
    ++extended;
  }
  return extended;
}

}  // namespace sim
