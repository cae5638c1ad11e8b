#include "api/rate_limiter.h"

#include <algorithm>

namespace esim {

RateLimiter::RateLimiter(double per_second, const util::Clock& clock) : clock_(clock) {
  // 2% slack: a request leaves at its slot but reaches the server a little early or late.
  if (per_second > 0) spacing_ = std::chrono::microseconds(static_cast<long long>(1.02e6 / per_second));
}

void RateLimiter::acquire() {
  if (spacing_.count() == 0) return;
  util::Clock::time_point slot;
  const auto now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    slot = std::max(now, next_slot_);
    next_slot_ = slot + spacing_;
  }
  if (slot > now) clock_.sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(slot - now) +
                                   std::chrono::milliseconds(1));
}

}  // namespace esim
