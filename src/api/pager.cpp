#include "api/pager.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "api/page_queue.h"
#include "util/workers.h"

namespace esim {

namespace {

// What the hand-off queue may hold (docs/performance.md, "Memory, worst case").
constexpr std::size_t kQueueBytes = 32u << 20;

// Notes the first sign that the listing moved; later signs add nothing.
void note_movement(PagerResult& result, const std::string& reason) {
  if (result.moved.empty()) result.moved = reason;
}

void check_total(PagerResult& result, std::int64_t first_total, const Page& page) {
  if (page.total != first_total) {
    note_movement(result, "the listing's total moved from " + std::to_string(first_total) + " to " +
                              std::to_string(page.total) + " during the pass");
  }
}

void check_early_end(PagerResult& result, std::int64_t end_offset, std::int64_t total) {
  if (end_offset < total) {
    note_movement(result, "the listing ended at offset " + std::to_string(end_offset) +
                              " before its reported total " + std::to_string(total));
  }
}

// No real account holds more packages than this: a "total" beyond it is absurd, and the
// runaway bound below must stay a number (4 x 2^63-1 is not).
constexpr std::int64_t kLargestPlausibleTotal = 100'000'000;

// A listing that never ends (every page full, whatever the offset) is a broken server, not a
// reason to page forever. The bound is generous, since "total" may be far off: the walk
// normally ends long before it, at an empty page.
void check_runaway(std::int64_t offset, std::int64_t first_total) {
  const std::int64_t total = std::clamp<std::int64_t>(first_total, 0, kLargestPlausibleTotal);
  const std::int64_t limit = std::max<std::int64_t>(4 * total, total + 1'000'000);
  if (offset > limit) {
    // The API's fault, so an "api" failure (ApiError), not a "database" one.
    throw ApiError("the listing never ended: offset " + std::to_string(offset) + " is far beyond its reported total " +
                       std::to_string(first_total) + " and pages keep coming back full; giving up",
                   0);
  }
}

// Offset arithmetic that cannot overflow, whatever a server claims.
std::int64_t offset_at(std::int64_t step, std::int64_t index) {
  if (index + 1 > std::numeric_limits<std::int64_t>::max() / std::max<std::int64_t>(step, 1)) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return step * (index + 1);
}

// Some servers refuse an offset past the last package instead of answering an empty page (400
// "invalid pagination", documented; 404 or 416 elsewhere). Such a refusal is the end of the
// listing when the offset is within a page of the reported total (a total that still counts a
// package or two that went). Far below the total it is a server that caps offsets, hiding the
// rest: that fails the walk, saying so, rather than leave the tail of the mirror stale for good.
bool refused_past_end(const ApiError& error, std::int64_t offset, std::int64_t total, int page_size) {
  const long status = error.http_status();
  if (offset <= 0 || (status != 400 && status != 404 && status != 416)) return false;
  return offset >= total || total - offset < page_size;
}

// The error a refusal far below the total stands for: a server that caps offsets, said so.
ApiError refused_before_end(const ApiError& error, std::int64_t offset, std::int64_t total) {
  const long status = error.http_status();
  if (offset <= 0 || (status != 400 && status != 404 && status != 416)) return error;
  return ApiError(std::string(error.what()) + "; the listing reports " + std::to_string(total) +
                      " packages, so offset " + std::to_string(offset) +
                      " is not its end (a server that caps offsets hides the packages past it)",
                  status);
}

}  // namespace

PagerResult Pager::run(const PageSink& sink) {
  return concurrency_ > 1 ? run_concurrent(sink) : run_sequential(sink);
}

PagerResult Pager::run_sequential(const PageSink& sink) {
  PagerResult result;
  std::int64_t offset = 0;
  std::int64_t first_total = -1;
  for (;;) {
    Page page;
    try {
      page = source_.fetch_page(offset, page_size_);
    } catch (const ApiError& e) {
      if (!refused_past_end(e, offset, result.final_total, page_size_)) throw refused_before_end(e, offset, result.final_total);
      check_early_end(result, offset, result.final_total);
      break;
    }
    ++result.pages;
    if (first_total < 0) first_total = page.total;
    check_total(result, first_total, page);
    result.final_total = page.total;
    const auto returned = static_cast<std::int64_t>(page.packages.size());
    result.packages_received += returned;
    sink(page);
    if (returned == 0) {  // the end of the listing: a short page may be only a capped one
      result.ended_at_empty_page = true;
      check_early_end(result, offset, page.total);
      break;
    }
    offset += returned;
    check_runaway(offset, first_total);
  }
  return result;
}

// Page i (from 0) of the concurrent walk: `step` packages from offset step * (i + 1), the first
// page (offset 0) being the walk's own. A page that comes back short is topped up with the rest
// of its stretch (a server capping responses by bytes, or dropping a row after paging), so the
// walk has no gap; an empty top-up only means the stretch held nothing more.
Page Pager::fetch_stretch(std::int64_t offset, std::int64_t step) {
  Page page = source_.fetch_page(offset, page_size_);
  auto returned = static_cast<std::int64_t>(page.packages.size());
  if (returned == 0) return page;
  for (std::int64_t next = offset + returned; next < offset + step;) {
    Page rest;
    try {
      rest = source_.fetch_page(next, static_cast<int>(std::min<std::int64_t>(page_size_, offset + step - next)));
    } catch (const ApiError& e) {
      if (refused_past_end(e, next, page.total, page_size_)) break;  // the stretch held the listing's last packages
      throw refused_before_end(e, next, page.total);
    }
    if (rest.packages.empty()) break;
    next += static_cast<std::int64_t>(rest.packages.size());
    page.total = rest.total;
    page.request_time += rest.request_time;
    page.parse_time += rest.parse_time;
    page.body_bytes += rest.body_bytes;
    std::move(rest.packages.begin(), rest.packages.end(), std::back_inserter(page.packages));
    std::move(rest.warnings.begin(), rest.warnings.end(), std::back_inserter(page.warnings));
  }
  return page;
}

// What the workers of one concurrent walk share with each other and with the calling thread.
struct Pager::ConcurrentWalk {
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  ConcurrentWalk(std::int64_t page_step, std::int64_t first_total, PageOrder order, int workers)
      : step(page_step), total(first_total), queue(order, static_cast<std::size_t>(2 * workers), kQueueBytes) {
    queue.set_producers(workers);
  }
  static void lower(std::atomic<std::int64_t>& bound, std::int64_t index) {
    std::int64_t seen = bound.load();
    while (index < seen && !bound.compare_exchange_weak(seen, index)) {
    }
  }
  // Keeps the failure of the earliest page in the listing.
  void record_error(std::int64_t index, std::exception_ptr failure) {
    std::lock_guard lock(error_mutex);
    if (index < error_index) {
      error = std::move(failure);
      error_index = index;
    }
  }
  // The workers stop taking pages, and any of them waiting on a full queue is released.
  void stop_workers() {
    stop = true;
    queue.close();
  }

  const std::int64_t step;   // the page size the server honours
  const std::int64_t total;  // as the first page reported it
  std::atomic<std::int64_t> next{0};
  // The first worker to see an empty page (or a refusal past the end) sets end_index, and no
  // worker takes a later page after that.
  std::atomic<std::int64_t> end_index{kNever};
  // After a failed request, the workers go on only a little further, to see whether the listing
  // ended before it (then the failure changes nothing); a server that fails every request past
  // some point must not be paged until the runaway bound.
  std::atomic<std::int64_t> give_up_after{kNever};
  std::atomic<std::int64_t> refused_index{kNever};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;  // of the earliest page in the listing whose request failed
  std::int64_t error_index = kNever;
  PageQueue queue;
};

PagerResult Pager::run_concurrent(const PageSink& sink) {
  PagerResult result;
  // 1. The first page tells the total and the page size the server honours; empty, it is all.
  Page first = source_.fetch_page(0, page_size_);
  ConcurrentWalk walk(static_cast<std::int64_t>(first.packages.size()), first.total, order_, concurrency_);
  result.pages = 1;
  result.final_total = walk.total;
  result.packages_received = walk.step;
  if (walk.step == 0) {
    result.ended_at_empty_page = true;
    check_early_end(result, 0, walk.total);
  }
  sink(first);
  first = Page{};
  if (walk.step == 0) return result;
  // 2. Workers fetch the following pages at that step while 3. this thread hands each page to
  //    the sink; whatever happens, the workers are stopped and joined before the walk is judged.
  std::int64_t end_of_data = walk.step;  // just past the furthest package any page held
  {
    util::Workers workers(concurrency_, [&] { fetch_pages(walk); });
    try {
      end_of_data = hand_over_pages(walk, sink, result);
    } catch (...) {
      walk.stop_workers();
      throw;
    }
    walk.stop_workers();
  }
  // 4. A failed request past the end of the listing changes nothing: every page before the end
  //    arrived. One before it lost a page, and fails the walk.
  if (walk.error && walk.error_index < walk.end_index) std::rethrow_exception(walk.error);
  if (walk.end_index.load() == ConcurrentWalk::kNever) {
    throw std::runtime_error("the concurrent walk stopped without reaching the end of the listing");
  }
  result.ended_at_empty_page = walk.end_index.load() < walk.refused_index.load();
  check_early_end(result, end_of_data, result.final_total);
  return result;
}

// One worker: takes the next page index until the walk ends, and queues what it fetched.
void Pager::fetch_pages(ConcurrentWalk& walk) {
  while (!walk.stop) {
    const std::int64_t index = walk.next++;
    if (index > walk.end_index || index > walk.give_up_after) break;
    const std::int64_t offset = offset_at(walk.step, index);
    try {
      check_runaway(offset, walk.total);
      Page page = fetch_stretch(offset, walk.step);
      if (page.packages.empty()) ConcurrentWalk::lower(walk.end_index, index);
      if (!walk.queue.push(index, std::move(page))) break;
    } catch (const ApiError& e) {
      // A refusal at the end is where the listing ends (the end page of this walk is then
      // "lost": nothing after it is due).
      if (refused_past_end(e, offset, walk.total, page_size_)) {
        ConcurrentWalk::lower(walk.end_index, index);
        ConcurrentWalk::lower(walk.refused_index, index);
        walk.queue.lose(index);
        continue;
      }
      walk.record_error(index, std::make_exception_ptr(refused_before_end(e, offset, walk.total)));
      walk.queue.lose(index);  // in listing order the consumer must not wait for it
      ConcurrentWalk::lower(walk.give_up_after, index + concurrency_);
      continue;  // a page just after it may still show that the listing ended before it
    } catch (...) {
      walk.record_error(index, std::current_exception());
      walk.stop = true;
      walk.queue.lose(index);
      break;
    }
  }
  walk.queue.producer_done();
}

// On the calling thread: each page the workers queued goes to the sink, one at a time. Returns
// the offset just past the furthest package any page held.
std::int64_t Pager::hand_over_pages(ConcurrentWalk& walk, const PageSink& sink, PagerResult& result) {
  std::int64_t end_of_data = walk.step;
  while (std::optional<Page> page = walk.queue.pop()) {
    ++result.pages;
    check_total(result, walk.total, *page);
    const auto returned = static_cast<std::int64_t>(page->packages.size());
    if (returned > 0) end_of_data = std::max(end_of_data, page->offset + returned);
    result.packages_received += returned;
    result.final_total = page->total;
    sink(*page);
    // In listing order the first empty page ends the walk, as it does sequentially: pages
    // fetched past it by requests already in flight are dropped unseen.
    if (order_ == PageOrder::kListing && returned == 0) break;
  }
  return end_of_data;
}

}  // namespace esim
