#pragma once
// The listing seam: what the pager, the sync pass and the removal proof ask of the API. Real:
// PackagesClient (one client), ApiClientPool (a thread-safe pool of them); fake:
// FakePageSource in the tests.
#include <cstdint>
#include <optional>
#include <string>

#include "domain/failure.h"
#include "domain/package.h"

namespace esim {

// An HTTP answer other than 200, or no answer. Names the offset and the status.
class ApiError : public Failure {
 public:
  ApiError(const std::string& message, long http_status)
      : Failure(FailureKind::kApi, message), http_status_(http_status) {}
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

}  // namespace esim
