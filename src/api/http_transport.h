#pragma once
// The HTTP seam: the one place where esim-sync talks to the network. PackagesClient asks it
// for a URL; tests give it a fake that records requests and answers from a script.
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace esim {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// A request that got no HTTP answer at all (DNS, connect, TLS, timeout). The message never
// contains request headers, so it cannot carry the API key.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse get(const HttpRequest& request) = 0;
};

}  // namespace esim
