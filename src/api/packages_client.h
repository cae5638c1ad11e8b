#pragma once
// GET {base_url}/packages for one page: builds the request, checks the answer, parses it.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "api/http_transport.h"
#include "domain/package.h"

namespace esim {

// An HTTP answer other than 200, or no answer. Names the offset and the status.
class ApiError : public std::runtime_error {
 public:
  ApiError(const std::string& message, long http_status)
      : std::runtime_error(message), http_status_(http_status) {}
  long http_status() const { return http_status_; }  // 0 when no answer came

 private:
  long http_status_;
};

// The listing's documented filters; an empty field is not sent. The sync asks by `sim` to prove a removal.
struct ListingFilter {
  std::optional<std::string> status;
  std::optional<std::string> sim;
  std::optional<std::int64_t> inventory;
  std::optional<std::int64_t> package_template;
};

// What the pager needs: one page at a time. PackagesClient is the real one; tests fake it.
class PageSource {
 public:
  virtual ~PageSource() = default;
  virtual Page fetch_page(std::int64_t offset, int count) = 0;
  // A page of the listing narrowed by `filter` (on top of any filter the source already has).
  virtual Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) = 0;
  // GET /packages/{id}: the package, or nullopt when the server answers 404 (an id the account
  // does not hold, it says; a negative answer, which proves something only next to answers
  // that found what is there: see sync/removal_proof). Other answers throw ApiError.
  virtual std::optional<Package> fetch_package(const std::string& id) = 0;
};

struct ApiSettings {
  std::string base_url;
  std::string api_key;
  std::string user_id;
  // Timeouts and limits copied onto every request (see HttpRequest).
  HttpRequest limits;
};

class PackagesClient final : public PageSource {
 public:
  PackagesClient(HttpTransport& transport, ApiSettings settings, ListingFilter filter = {});
  Page fetch_page(std::int64_t offset, int count) override;
  Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) override;
  std::optional<Package> fetch_package(const std::string& id) override;

  // The request for one page; public so tests can check the URL and headers.
  HttpRequest page_request(std::int64_t offset, int count) const { return page_request(offset, count, filter_); }
  HttpRequest page_request(std::int64_t offset, int count, const ListingFilter& filter) const;
  HttpRequest package_request(const std::string& id) const;
  // The exchange itself: the answer, or an ApiError naming the request and what came back.
  // Public for the other listings of the same API (TemplatesClient).
  HttpResponse exchange(const HttpRequest& request, const std::string& hint_for_400);

 private:

  HttpTransport& transport_;
  ApiSettings settings_;
  ListingFilter filter_;
};

// The readable part of an error body: "message" of {"message","statusCode"}, else the text,
// shortened to a line.
std::string error_body_summary(const std::string& body);

}  // namespace esim
