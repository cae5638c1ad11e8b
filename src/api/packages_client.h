#pragma once
// GET {base_url}/packages for one page, and GET {base_url}/packages/{id}: the real PageSource.
// Builds the request, checks the answer, parses it.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/http_transport.h"
#include "api/page_source.h"

namespace esim {

struct ApiSettings {
  std::string base_url;
  std::string api_key;
  std::string user_id;
  // Timeouts and limits copied onto every request (see HttpRequest).
  HttpRequest limits;
  // sync.volatile_fields: each package notes where its text holds them (Package::volatile_spans).
  std::vector<std::string> volatile_fields = {};
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
