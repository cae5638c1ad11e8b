#pragma once
// Retries what is worth retrying (429, 500, 502, 503, 504, no answer) with capped exponential
// backoff and full jitter, honouring Retry-After. Wraps any HttpTransport.
#include <functional>
#include <optional>
#include <string>

#include "api/http_transport.h"
#include "util/clock.h"

namespace esim {

struct RetryPolicy {
  int max_retries = 5;                                     // retries after the first attempt
  std::chrono::milliseconds base_delay{500};               // backoff before the first retry, doubling
  std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
  std::chrono::milliseconds max_total_wait{std::chrono::minutes(2)};  // all waits of one request
  std::chrono::milliseconds retry_after_cap{std::chrono::seconds(60)};
};

// A Retry-After value as a wait: delta-seconds or an HTTP date. nullopt for none, an
// unreadable value, or a wait of zero or less (which counts as no hint).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value, util::Clock::time_point now);

bool is_retryable_status(long status);

class RetryingTransport final : public HttpTransport {
 public:
  // random01 gives uniform numbers in [0, 1) for the jitter; tests pass a fixed one.
  RetryingTransport(HttpTransport& inner, RetryPolicy policy, const util::Clock& clock,
                    std::function<double()> random01 = {});

  HttpResponse get(const HttpRequest& request) override;
  long long retries() const { return retries_; }  // over the transport's life, for metrics

 private:
  HttpTransport& inner_;
  RetryPolicy policy_;
  const util::Clock& clock_;
  std::function<double()> random01_;
  long long retries_ = 0;
};

}  // namespace esim
