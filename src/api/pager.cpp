#include "api/pager.h"

#include <algorithm>
#include <stdexcept>

namespace esim {

PagerResult Pager::run(const PageSink& sink) {
  PagerResult result;
  std::int64_t offset = 0;
  std::int64_t first_total = -1;
  std::int64_t smallest_page = page_size_;
  for (;;) {
    Page page = source_.fetch_page(offset, page_size_);
    ++result.pages;
    if (first_total < 0) first_total = page.total;
    if (page.total != first_total && result.incomplete_reason.empty()) {
      result.incomplete_reason = "the listing's total moved from " + std::to_string(first_total) +
                                 " to " + std::to_string(page.total) + " during the pass";
    }
    result.final_total = page.total;
    const auto returned = static_cast<std::int64_t>(page.packages.size());
    result.packages_received += returned;
    sink(page);

    if (returned == 0) {
      if (offset < page.total && result.incomplete_reason.empty()) {
        result.incomplete_reason = "an empty page came back at offset " + std::to_string(offset) +
                                   " before the reported total " + std::to_string(page.total);
      }
      break;
    }
    smallest_page = std::min(smallest_page, returned);
    offset += returned;
    if (offset >= page.total) break;
    // Every page advances the offset, so this ends unless total keeps growing; a listing that
    // grows faster than we read it is an error, not a reason to page forever.
    const std::int64_t pages_needed = (first_total + smallest_page - 1) / smallest_page;
    if (result.pages > 2 * pages_needed + 10) {
      throw std::runtime_error("the listing kept growing while paging (total now " +
                               std::to_string(page.total) + ", offset " + std::to_string(offset) +
                               "); giving up after " + std::to_string(result.pages) + " pages");
    }
  }
  result.complete = result.incomplete_reason.empty();
  return result;
}

}  // namespace esim
