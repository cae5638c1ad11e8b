#pragma once
// The hand-off between the concurrent pager's fetching workers and the thread that takes the
// pages (the sink's thread).
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "api/pager.h"

namespace esim {

// Bounded in pages and in bytes, so fast workers wait for the consumer instead of piling pages
// up in memory, however large the packages are (one page always fits, so a huge page still
// goes through). Pages are numbered by the workers, 0, 1, 2... in listing order.
//
// In listing order the bound is a window: page i may wait in the queue only while it is fewer
// than `capacity` pages ahead of the page due next, and the page due next is always let in,
// since the consumer cannot go on without it.
class PageQueue {
 public:
  PageQueue(PageOrder order, std::size_t capacity, std::size_t max_bytes)
      : order_(order), capacity_(capacity), max_bytes_(max_bytes) {}

  // Waits for room. False when the page is dropped: the consumer gave up, or (in listing
  // order) a page before it was lost, so it can never be delivered.
  bool push(std::int64_t index, Page page);

  // The next page, in the queue's order; nullopt once the queue is closed, or once no more
  // can come (every producer finished, or in listing order the page due was lost).
  std::optional<Page> pop();

  // Page `index` will never come (its request failed). In listing order nothing after it can
  // be delivered: pop ends there and later pages are dropped. In arrival order it changes
  // nothing: the pages that do come are still delivered.
  void lose(std::int64_t index);

  void set_producers(int n);
  void producer_done();
  void close();  // the consumer stops: wake and release every worker

 private:
  bool has_room(std::int64_t index, std::size_t bytes) const;
  bool can_pop() const;
  bool past_lost(std::int64_t index) const { return order_ == PageOrder::kListing && index > lost_; }
  bool due_is_lost() const { return order_ == PageOrder::kListing && due_ >= lost_; }

  const PageOrder order_;
  const std::size_t capacity_;
  const std::size_t max_bytes_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  // With their bytes; keyed by page number in listing order, by arrival in arrival order.
  std::map<std::int64_t, std::pair<Page, std::size_t>> pages_;
  std::int64_t arrivals_ = 0;
  std::int64_t due_ = 0;  // listing order: the page the consumer takes next
  std::int64_t lost_ = std::numeric_limits<std::int64_t>::max();
  std::size_t bytes_ = 0;
  int producers_ = 0;
  bool closed_ = false;
};

}  // namespace esim
