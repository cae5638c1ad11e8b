#include "api/retrying_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <random>

namespace esim {

bool is_retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value, util::Clock::time_point now) {
  if (value.empty()) return std::nullopt;
  const bool numeric = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  if (numeric) {
    try {
      long long seconds = std::stoll(value);
      if (seconds <= 0) return std::nullopt;
      return std::chrono::milliseconds(std::min<long long>(seconds, 86'400) * 1000);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  std::tm parts{};  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT"
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(timegm(&parts));
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  if (wait.count() <= 0) return std::nullopt;
  return wait;
}

RetryingTransport::RetryingTransport(HttpTransport& inner, RetryPolicy policy, const util::Clock& clock,
                                     std::function<double()> random01)
    : inner_(inner), policy_(policy), clock_(clock), random01_(std::move(random01)) {
  if (!random01_) {
    random01_ = [engine = std::mt19937_64(std::random_device{}())]() mutable {
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

HttpResponse RetryingTransport::get(const HttpRequest& request) {
  std::chrono::milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    HttpResponse response;
    std::string failure;
    try {
      response = inner_.get(request);
      response.attempts = attempt;
      if (!is_retryable_status(response.status)) return response;
      failure = "HTTP " + std::to_string(response.status);
    } catch (const TransportError& e) {
      if (!e.retryable()) throw;  // DNS, TLS, certificate: the same answer again
      failure = e.what();
      if (attempt > policy_.max_retries) {
        throw TransportError(failure + " (gave up after " + std::to_string(attempt) + " attempts)");
      }
    }
    if (attempt > policy_.max_retries) return response;

    // Full jitter: a uniform wait up to the exponential ceiling, so that many clients that
    // failed together do not come back together. A server's Retry-After overrides it, capped.
    const std::chrono::milliseconds doubled = policy_.base_delay * (1LL << std::min(attempt - 1, 20));
    const std::chrono::milliseconds ceiling = std::min(policy_.max_delay, doubled);
    auto delay = std::chrono::milliseconds(static_cast<long long>(random01_() * static_cast<double>(ceiling.count())));
    if (auto hint = parse_retry_after(response.retry_after, clock_.now())) {
      delay = std::min(*hint, policy_.retry_after_cap);
    }
    if (waited + delay > policy_.max_total_wait) {
      if (response.status != 0) return response;
      throw TransportError(failure + " (gave up: retrying longer would exceed api.max_retry_wait)");
    }
    spdlog::warn("{}: {}; retrying in {} ms (attempt {} of {})", request.url, failure, delay.count(), attempt + 1,
                 policy_.max_retries + 1);
    clock_.sleep_for(delay);
    waited += delay;
    ++retries_;
  }
}

}  // namespace esim
