#pragma once
// The HTTP seam: the one place where esim-sync talks to the network. PackagesClient asks it
// for a URL; tests give it a fake that records requests and answers from a script.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace esim {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // the whole request
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Abandon a response slower than low_speed_limit bytes/s for low_speed_time (a trickle).
  std::uint64_t low_speed_limit = 1024;
  std::chrono::milliseconds low_speed_time{std::chrono::seconds(15)};
  std::uint64_t max_response_size = 64ull << 20;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, when the server sent one
  int attempts = 1;         // how many requests it took (RetryingTransport)
};

// A request that got no HTTP answer at all (DNS, connect, TLS, timeout). The message never
// contains request headers, so it cannot carry the API key. Not retryable: an error that a
// retry cannot mend (the host name does not resolve, TLS or the certificate fails).
class TransportError : public std::runtime_error {
 public:
  explicit TransportError(const std::string& message, bool retryable = true)
      : std::runtime_error(message), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// A body larger than HttpRequest::max_response_size. Not retried: it would be as large again.
class ResponseTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse get(const HttpRequest& request) = 0;
};

}  // namespace esim
