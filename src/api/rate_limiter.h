#pragma once
// Keeps requests to the API under a rate, across every thread that shares the limiter.
#include <mutex>

#include "api/http_transport.h"
#include "util/clock.h"

namespace esim {

class RateLimiter {
 public:
  // per_second <= 0: no limit.
  RateLimiter(double per_second, const util::Clock& clock);
  // Waits for the next free slot. Slots are spaced evenly, so no one-second window ever holds
  // more than per_second requests, however many threads ask.
  void acquire();

 private:
  const util::Clock& clock_;
  std::chrono::microseconds spacing_{0};
  std::mutex mutex_;
  util::Clock::time_point next_slot_{};
};

// Every request, retries included, takes a slot first.
class RateLimitedTransport final : public HttpTransport {
 public:
  RateLimitedTransport(HttpTransport& inner, RateLimiter& limiter) : inner_(inner), limiter_(limiter) {}
  HttpResponse get(const HttpRequest& request) override {
    limiter_.acquire();
    return inner_.get(request);
  }

 private:
  HttpTransport& inner_;
  RateLimiter& limiter_;
};

}  // namespace esim
