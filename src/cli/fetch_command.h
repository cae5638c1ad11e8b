#pragma once
// `esim-sync fetch`: the listing straight from the API, for an operator's look.
#include <cstdint>
#include <optional>
#include <string>

#include "api/packages_client.h"

namespace esim {

struct FetchOptions {
  ListingFilter filter;
  std::int64_t offset = 0;
  std::optional<int> count;  // default: api.page_size
  bool all = false;          // page through everything from offset on
  std::string format = "jsonl";  // jsonl: the API's objects, one a line; table: aligned columns
};

int command_fetch(const std::string& config_path, const FetchOptions& options);

}  // namespace esim
