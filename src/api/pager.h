#pragma once
// Walks the whole listing page by page and hands each page on as it arrives.
#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "api/packages_client.h"

namespace esim {

struct PagerResult {
  std::int64_t pages = 0;
  std::int64_t packages_received = 0;  // duplicates included
  std::int64_t final_total = 0;
  // True when the walk reached the reported total with a total that never moved: only such
  // a pass may conclude that an unlisted package is gone.
  bool complete = false;
  std::string incomplete_reason;
};

class Pager {
 public:
  using PageSink = std::function<void(const Page&)>;

  Pager(PageSource& source, int page_size) : source_(source), page_size_(page_size) {}

  // Fetches pages until the offset reaches total or a page comes back empty. The offset
  // advances by what the server actually returned, since a server may return fewer than asked.
  // Each page's work (sink) is done before the next is asked for, so memory holds one page.
  PagerResult run(const PageSink& sink);

 private:
  PageSource& source_;
  int page_size_;
};

}  // namespace esim
