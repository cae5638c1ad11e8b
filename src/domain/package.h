#pragma once
// The domain: one eSIM package as the API lists it, and one page of the listing. Every layer
// speaks these types; none of them knows HTTP or SQL.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esim {

struct Package {
  std::string id;
  std::optional<std::string> sim;
  std::optional<std::int64_t> package_template;
  std::string status;
  // Epoch milliseconds, as the API sends them; PostgreSQL turns them into timestamptz.
  std::optional<std::int64_t> created_date;
  std::optional<std::int64_t> activated_date;
  std::optional<std::int64_t> expiry_date;
  std::string raw_json;  // the object as sent, unknown fields included
};

struct Page {
  std::int64_t offset = 0;  // the offset we asked for
  std::int64_t total = 0;   // the listing's size, as the server reported it with this page
  std::vector<Package> packages;
  // Odd values that did not stop the page (a number beyond 64 bits stored as NULL, \u0000
  // replaced), each naming the package id and the field; the caller logs them.
  std::vector<std::string> warnings;
  // What getting it cost, for a pass's breakdown of where its time went (docs/performance.md):
  // the HTTP exchange (retries included) and the parse.
  std::chrono::microseconds request_time{0};
  std::chrono::microseconds parse_time{0};
};

// The four statuses Betatel documents. Others are stored as sent, with a warning.
bool is_documented_status(const std::string& status);

}  // namespace esim
