#include "odd_payloads.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace sim {

namespace {

std::vector<std::string> odd_packages(const OddOptions& odd) {
  std::vector<std::string> out;
  if (odd.packages) {
    // PostgreSQL text and jsonb cannot hold U+0000: in the id, the sim, and nested unknown fields.
    out.push_back(R"({"id":"pkg_odd_nul\u0000","sim":"8914800000\u00009","package_template":21145351,)"
                  R"("status":"ACTIVE","created_date":1735689600000,"activated_date":null,"expiry_date":null,)"
                  R"("note":"a\u0000b","extra":{"k\u0000ey":["x\u0000",{"y":"\u0000"}]}})");
    // Beyond 64 bits: a template id of 2^63 and 2^64-1 as a date and an unknown counter.
    out.push_back(R"({"id":"pkg_odd_numbers","sim":"89148000000000000002","package_template":9223372036854775808,)"
                  R"("status":"ACTIVE","created_date":1735689600000,"activated_date":18446744073709551615,)"
                  R"("expiry_date":null,"data_usage_remaining":18446744073709551615})");
    // A status that would add a sample to /metrics and split a log line if not escaped.
    out.push_back(R"({"id":"pkg_odd_status","sim":"89148000000000000003","package_template":21145351,)"
                  R"("status":"X\"} 1\nesim_sync_last_success_timestamp_seconds 4102444800\n# x",)"
                  R"("created_date":1735689600000})");
  }
  if (odd.dates) {
    // "Never expires" as the largest 64-bit integer; a date about 7,500 years before 1970.
    out.push_back(R"({"id":"pkg_odd_dates","sim":"89148000000000000004","package_template":21145351,)"
                  R"("status":"ACTIVE","created_date":-300000000000000,"activated_date":1735689600000,)"
                  R"("expiry_date":9223372036854775807})");
  }
  if (odd.depth > 0) {
    const auto depth = static_cast<std::size_t>(odd.depth);
    out.push_back(R"({"id":"pkg_odd_deep","sim":"89148000000000000005","package_template":21145351,)"
                  R"("status":"ACTIVE","created_date":1735689600000,"deep":)" +
                  std::string(depth, '[') + std::string(depth, ']') + "}");
  }
  return out;
}

// The number after `key` in the envelope prefix the catalog writes.
std::int64_t envelope_number(const std::string& page, const std::string& key) {
  const auto at = page.find("\"" + key + "\":");
  if (at == std::string::npos) throw std::logic_error("odd_payloads: no " + key + " in the page");
  return std::stoll(page.substr(at + key.size() + 3));
}

}  // namespace

std::string with_odd_packages(const std::string& page, std::int64_t offset, std::int64_t count,
                              const OddOptions& odd) {
  const std::vector<std::string> extra = odd_packages(odd);
  const std::int64_t listed = envelope_number(page, "total");
  const std::string open = "\"packages\":[";
  const auto body_start = page.find(open) + open.size();
  const auto body_end = page.rfind(']');
  std::string packages = page.substr(body_start, body_end - body_start);
  std::int64_t returned = envelope_number(page, "count");
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(extra.size()); ++i) {
    const std::int64_t position = listed + i;
    if (position < offset || position >= offset + count) continue;
    if (!packages.empty()) packages += ',';
    packages += extra[static_cast<std::size_t>(i)];
    ++returned;
  }
  return fmt::format("{{\"total\":{},\"offset\":{},\"count\":{},\"packages\":[{}]}}",
                     listed + static_cast<std::int64_t>(extra.size()), offset, returned, packages);
}

}  // namespace sim
