#pragma once
// Walks the whole listing page by page and hands each page on as it arrives.
#include <cstdint>
#include <functional>
#include <string>

#include "api/packages_client.h"

namespace esim {

struct PagerResult {
  std::int64_t pages = 0;
  std::int64_t packages_received = 0;  // duplicates included
  std::int64_t final_total = 0;        // "total" as the last page reported it
  // The first sign that the listing moved or that its "total" is not to be trusted ("" when
  // none). A walk with such a sign may have skipped packages: SyncPass proves each removal
  // candidate by lookup either way, and uses the sign only to decide whether to walk again.
  std::string moved;
};

class Pager {
 public:
  using PageSink = std::function<void(const Page&)>;

  // With concurrency > 1 the source is called from that many threads at once, so it must be
  // thread-safe (ApiClientPool is; so are the test fakes).
  Pager(PageSource& source, int page_size, int concurrency = 1)
      : source_(source), page_size_(page_size), concurrency_(concurrency) {}

  // Fetches pages until the listing ends: at an empty page, at a page shorter than the pages
  // before it, or at a page shorter than asked that reaches the reported total. "total" is
  // never where a walk stops (it may lag or be absurd); every offset advances by what the
  // server actually returned. Concurrently, the first page tells the page size the server
  // honours (fewer or more than asked); `concurrency` workers then fetch the following pages
  // and every worker stops at the first short or empty page, so a walk makes at most the pages
  // that hold data plus one request per worker, whatever "total" says. Either way the sink runs
  // on the calling thread, one page at a time, in arrival order, and at most a few pages are
  // held in memory.
  PagerResult run(const PageSink& sink);

 private:
  PagerResult run_sequential(const PageSink& sink);
  PagerResult run_concurrent(const PageSink& sink);

  PageSource& source_;
  int page_size_;
  int concurrency_;
};

}  // namespace esim
