#pragma once
// The domain: one eSIM package as the API lists it, and one page of the listing. Every layer
// speaks these types; none of them knows HTTP or SQL.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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
  // SDK 1.0.10's usage counters, when sent as 64-bit integers (else absent; raw_json keeps them).
  // (Default member initializers: a brace-initialised Package may leave them out.)
  std::optional<std::int64_t> data_usage_remaining = std::nullopt, voice_usage_remaining = std::nullopt,
                              sms_usage_remaining = std::nullopt;
  // Where raw_json holds the values of the volatile fields (sync.volatile_fields): byte offset
  // and length of each, left out of the stable fingerprint. Empty when it holds none, or when
  // raw_json was altered after reading (an odd value replaced): then the store compares.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> volatile_spans = {};
};

// The usage counters: the default of sync.volatile_fields, and the columns of esim.package_usage.
const std::vector<std::string>& usage_counter_fields();
// The fields the mirror types: never volatile (a change of any of them is a version).
bool is_typed_field(const std::string& field);

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
  std::size_t body_bytes = 0;  // the response bodies' bytes (issue 24's yardstick for what a pass sends)
};

// The four statuses Betatel documents. Others are stored as sent, with a warning.
bool is_documented_status(const std::string& status);

}  // namespace esim
