#pragma once
// A thread-safe PageSource over several API clients, one per concurrent request: each has its
// own connection (libcurl handles are not shared across threads), all share one rate limiter.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "api/curl_transport.h"
#include "api/packages_client.h"
#include "api/rate_limiter.h"
#include "api/retrying_transport.h"
#include "api/templates_client.h"

namespace esim {

class ApiClientPool final : public PageSource, public TemplateSource {
 public:
  // observe, when set, hears the HTTP status of every response (0: no answer), retries included.
  using Observer = std::function<void(long status)>;
  ApiClientPool(int size, const ApiSettings& settings, const RetryPolicy& retry, double rate_limit,
                const util::Clock& clock, ListingFilter filter = {}, Observer observe = {});
  ~ApiClientPool() override;

  Page fetch_page(std::int64_t offset, int count) override;
  Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) override;
  std::optional<Package> fetch_package(const std::string& id) override;
  TemplatePage fetch_templates(std::int64_t offset, int count) override;  // the plan catalogue
  long long retries() const;

 private:
  struct Client;
  ApiSettings settings_;
  RateLimiter limiter_;
  // Runs one request on an idle client, waiting for one if all are busy.
  template <typename Request>
  auto with_client(const Request& request);

  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> idle_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace esim
