#pragma once
// HttpTransport over libcurl. Keeps one easy handle so consecutive pages reuse the connection.
#include <memory>

#include "api/http_transport.h"

namespace esim {

// DNS, TLS and certificate failures: the configuration is wrong, a retry gets the same answer.
bool curl_error_is_permanent(int curl_code);

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse get(const HttpRequest& request) override;

 private:
  void* handle_;  // CURL*, kept opaque so callers need not include curl.h
};

}  // namespace esim
