#pragma once
// Walks the whole listing page by page and hands each page on as it arrives, or in listing
// order.
#include <cstdint>
#include <functional>
#include <string>

#include "api/page_source.h"

namespace esim {

struct PagerResult {
  std::int64_t pages = 0;
  std::int64_t packages_received = 0;  // duplicates included
  std::int64_t final_total = 0;        // "total" as the last page reported it
  // The walk ended where an empty page said the listing ends (false: at a request past the
  // end that the server refused). Only such a walk can count towards the two-walk rule.
  bool ended_at_empty_page = false;
  // The first sign that the listing moved or that its "total" is not to be trusted ("" when
  // none). A walk with such a sign may have skipped packages: SyncPass proves each removal
  // candidate by lookup either way, and uses the sign only to decide whether to walk again.
  std::string moved;
};

// In which order the concurrent walk hands pages to the sink (the sequential walk has one
// order: the listing's).
enum class PageOrder {
  kArrival,  // as requests come back: for a consumer that does not care about order
  kListing,  // by offset, exactly as the sequential walk: for the sync (its chunks follow the
             // listing) and `fetch`, which prints it
};

class Pager {
 public:
  using PageSink = std::function<void(const Page&)>;

  // With concurrency > 1 the source is called from that many threads at once, so it must be
  // thread-safe (ApiClientPool is; so are the test fakes).
  Pager(PageSource& source, int page_size, int concurrency = 1, PageOrder order = PageOrder::kArrival)
      : source_(source), page_size_(page_size), concurrency_(concurrency), order_(order) {}

  // Fetches pages until the listing ends: at an empty page, never at a short one (a server may
  // cap a response by bytes, or drop a row from a page after paging), and never at "total"
  // (it may lag or be absurd); every offset advances by what the server actually returned. A
  // 400, 404 or 416 for an offset at or past the reported total ends the walk too: some servers
  // refuse an offset past the end rather than answer [].
  //
  // Concurrently, the first page tells the page size the server honours (fewer or more than
  // asked); `concurrency` workers then fetch the following pages at that step, and a worker
  // whose page comes back shorter than the step fetches the rest of that stretch itself, so a
  // short page leaves no gap. The first empty page ends the walk: a walk makes the pages that
  // hold data plus at most one request per worker, and a request past the end that fails
  // changes nothing. Either way the sink runs on the calling thread, one page at a time, and at
  // most a few pages are held in memory.
  //
  // With PageOrder::kArrival pages reach the sink as they come back. With PageOrder::kListing
  // they reach it by offset, and the walk ends at the first empty page in that order: pages
  // past it and failed requests past it are never seen. Pages that come back early wait, at
  // most 2 x concurrency of them (and the queue's bytes), so one slow request holds the
  // workers back rather than filling memory.
  PagerResult run(const PageSink& sink);

 private:
  PagerResult run_sequential(const PageSink& sink);
  PagerResult run_concurrent(const PageSink& sink);
  struct ConcurrentWalk;
  void fetch_pages(ConcurrentWalk& walk);
  std::int64_t hand_over_pages(ConcurrentWalk& walk, const PageSink& sink, PagerResult& result);
  Page fetch_stretch(std::int64_t offset, std::int64_t step);

  PageSource& source_;
  int page_size_;
  int concurrency_;
  PageOrder order_;
};

}  // namespace esim
