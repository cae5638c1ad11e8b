#pragma once
// Turns one response body of GET /packages into a Page, or says exactly what is wrong with it.
#include <stdexcept>
#include <string>

#include "domain/package.h"

namespace esim {

// A response that is not the documented shape. The message names the page offset.
class PayloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Page parse_packages_page(const std::string& body, std::int64_t offset);

}  // namespace esim
