#pragma once
// Odd but legal packages, for tests of hostile input: \u0000 in strings and keys, the largest
// 64-bit dates and dates long before 1970, numbers beyond 64 bits, a status that tries to forge
// a metrics sample, and an unknown field nested as deep as asked. They sit at the end of the
// unfiltered listing, after the catalog's packages (which they never change).
#include <cstdint>
#include <string>

namespace sim {

struct OddOptions {
  bool packages = false;  // pkg_odd_nul, pkg_odd_numbers, pkg_odd_status
  bool dates = false;     // pkg_odd_dates: 9223372036854775807 and -300000000000000
  int depth = 0;          // pkg_odd_deep with an unknown field nested this deep (0: none)
  bool any() const { return packages || dates || depth > 0; }
};

// `page` as Catalog::render_page wrote it for (offset, count) of the unfiltered listing; returns
// it with "total" counting the odd packages and those falling into [offset, offset+count) added.
std::string with_odd_packages(const std::string& page, std::int64_t offset, std::int64_t count,
                              const OddOptions& odd);

}  // namespace sim
