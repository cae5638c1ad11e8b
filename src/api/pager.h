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
  std::int64_t final_total = 0;
  // True when the walk reached the reported total with a total that never moved: only such
  // a walk may conclude that an unlisted package is gone (SyncPass checks the ids as well).
  bool complete = false;
  std::string incomplete_reason;
};

class Pager {
 public:
  using PageSink = std::function<void(const Page&)>;

  // With concurrency > 1 the source is called from that many threads at once, so it must be
  // thread-safe (ApiClientPool is; so are the test fakes).
  Pager(PageSource& source, int page_size, int concurrency = 1)
      : source_(source), page_size_(page_size), concurrency_(concurrency) {}

  // Fetches pages until the offset reaches total or a page comes back empty. Sequentially, the
  // offset advances by what the server actually returned (a server may return fewer than
  // asked). Concurrently, the first page tells total and the page size the server honours;
  // the remaining offsets are then fetched by `concurrency` workers. Either way the sink runs
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
