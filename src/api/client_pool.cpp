#include "api/client_pool.h"

namespace esim {

namespace {

// Tells an observer the status of every answer (for metrics), and 0 when none came.
class ObservedTransport final : public HttpTransport {
 public:
  ObservedTransport(HttpTransport& inner, ApiClientPool::Observer observe)
      : inner_(inner), observe_(std::move(observe)) {}
  HttpResponse get(const HttpRequest& request) override {
    if (!observe_) return inner_.get(request);
    try {
      HttpResponse response = inner_.get(request);
      observe_(response.status);
      return response;
    } catch (const TransportError&) {
      observe_(0);
      throw;
    }
  }

 private:
  HttpTransport& inner_;
  ApiClientPool::Observer observe_;
};

}  // namespace

// One request path: curl, observed, then the shared rate limit, then retries (each retry takes
// a slot and is observed).
struct ApiClientPool::Client {
  Client(const ApiSettings& settings, const RetryPolicy& retry, RateLimiter& limiter, const util::Clock& clock,
         const ListingFilter& filter, const Observer& observe)
      : observed(curl, observe), limited(observed, limiter), retrying(limited, retry, clock),
        client(retrying, settings, filter) {}
  CurlTransport curl;
  ObservedTransport observed;
  RateLimitedTransport limited;
  RetryingTransport retrying;
  PackagesClient client;
};

ApiClientPool::ApiClientPool(int size, const ApiSettings& settings, const RetryPolicy& retry, double rate_limit,
                             const util::Clock& clock, ListingFilter filter, Observer observe)
    : settings_(settings), limiter_(rate_limit, clock) {
  for (int i = 0; i < std::max(1, size); ++i) {
    clients_.push_back(std::make_unique<Client>(settings, retry, limiter_, clock, filter, observe));
    idle_.push_back(clients_.back().get());
  }
}

ApiClientPool::~ApiClientPool() = default;

template <typename Request>
auto ApiClientPool::with_client(const Request& request) {
  Client* client = nullptr;
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    client = idle_.back();
    idle_.pop_back();
  }
  struct Return {  // back to the pool even when the request throws
    ApiClientPool& pool;
    Client* client;
    ~Return() {
      std::lock_guard lock(pool.mutex_);
      pool.idle_.push_back(client);
      pool.available_.notify_one();
    }
  } give_back{*this, client};
  return request(client->client);
}

TemplatePage ApiClientPool::fetch_templates(std::int64_t offset, int count) {
  return with_client([&](PackagesClient& c) { return TemplatesClient(c, settings_).fetch_templates(offset, count); });
}

Page ApiClientPool::fetch_page(std::int64_t offset, int count) {
  return with_client([&](PackagesClient& c) { return c.fetch_page(offset, count); });
}

Page ApiClientPool::fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) {
  return with_client([&](PackagesClient& c) { return c.fetch_filtered_page(offset, count, filter); });
}

std::optional<Package> ApiClientPool::fetch_package(const std::string& id) {
  return with_client([&](PackagesClient& c) { return c.fetch_package(id); });
}

long long ApiClientPool::retries() const {
  std::lock_guard lock(mutex_);
  long long total = 0;
  for (const auto& c : clients_) total += c->retrying.retries();
  return total;
}

}  // namespace esim
