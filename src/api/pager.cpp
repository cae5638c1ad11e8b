#include "api/pager.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "api/page_queue.h"

namespace esim {

namespace {

// What the hand-off queue may hold (README "Speed", the memory bound).
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

// A listing that never ends (every page full, whatever the offset) is a broken server, not a
// reason to page forever. The bound is generous, since "total" may be far off: the walk
// normally ends long before it, at a short page.
void check_runaway(std::int64_t offset, std::int64_t first_total) {
  const std::int64_t limit = std::max<std::int64_t>(4 * first_total, first_total + 1'000'000);
  if (offset > limit) {
    // The API's fault, so an "api" failure (ApiError), not a "database" one.
    throw ApiError("the listing never ended: offset " + std::to_string(offset) + " is far beyond its reported total " +
                       std::to_string(first_total) + " and pages keep coming back full; giving up",
                   0);
  }
}

}  // namespace

PagerResult Pager::run(const PageSink& sink) {
  return concurrency_ > 1 ? run_concurrent(sink) : run_sequential(sink);
}

PagerResult Pager::run_sequential(const PageSink& sink) {
  PagerResult result;
  std::int64_t offset = 0;
  std::int64_t first_total = -1;
  std::int64_t largest_page = 0;  // the page size the server honours, as far as seen
  for (;;) {
    Page page = source_.fetch_page(offset, page_size_);
    ++result.pages;
    if (first_total < 0) first_total = page.total;
    check_total(result, first_total, page);
    result.final_total = page.total;
    const auto returned = static_cast<std::int64_t>(page.packages.size());
    result.packages_received += returned;
    sink(page);

    // The end of the listing: an empty page, a page shorter than an earlier one, or a page
    // shorter than asked that reaches the reported total (which saves a last empty request).
    const bool end = returned == 0 || returned < largest_page ||
                     (returned < page_size_ && offset + returned >= page.total);
    if (end) {
      check_early_end(result, offset + returned, page.total);
      break;
    }
    largest_page = std::max(largest_page, returned);
    offset += returned;
    check_runaway(offset, first_total);
  }
  return result;
}

PagerResult Pager::run_concurrent(const PageSink& sink) {
  PagerResult result;
  Page first = source_.fetch_page(0, page_size_);
  const std::int64_t total = first.total;
  // The page size the server honours, which may be fewer or more than asked.
  const auto step = static_cast<std::int64_t>(first.packages.size());
  result.pages = 1;
  result.final_total = total;
  result.packages_received = step;
  const bool first_is_all = step == 0 || (step < page_size_ && step >= total);
  if (first_is_all) check_early_end(result, step, total);
  sink(first);
  first = Page{};
  if (first_is_all) return result;

  // Page i (from 0) starts at offset step * (i + 1). The first worker to see a short or empty
  // page sets end_index, and no worker takes a later page after that.
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> end_index{std::numeric_limits<std::int64_t>::max()};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr worker_error;  // of the earliest page in the listing whose request failed
  std::int64_t error_index = std::numeric_limits<std::int64_t>::max();
  PageQueue queue(order_, static_cast<std::size_t>(2 * concurrency_), kQueueBytes);
  queue.set_producers(concurrency_);

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(concurrency_));
  for (int w = 0; w < concurrency_; ++w) {
    threads.emplace_back([&] {
      while (!stop) {
        const std::int64_t index = next++;
        if (index > end_index) break;
        try {
          check_runaway(step * (index + 1), total);
          Page page = source_.fetch_page(step * (index + 1), page_size_);
          if (static_cast<std::int64_t>(page.packages.size()) < step) {
            std::int64_t seen = end_index.load();
            while (index < seen && !end_index.compare_exchange_weak(seen, index)) {
            }
          }
          if (!queue.push(index, std::move(page))) break;
        } catch (...) {
          {
            std::lock_guard lock(error_mutex);
            if (index < error_index) {
              worker_error = std::current_exception();
              error_index = index;
            }
          }
          stop = true;
          queue.lose(index);  // in listing order the consumer must not wait for it
          break;
        }
      }
      queue.producer_done();
    });
  }

  // Whatever happens below, the workers are released and joined before we leave.
  auto finish = [&] {
    stop = true;
    queue.close();
    for (auto& t : threads) t.join();
  };
  // Where the listing ended: the first short or empty page, and what it held and reported.
  std::int64_t end_offset = -1, end_returned = 0, end_total = 0;
  bool delivered_end = false;  // listing order: the page that ends the walk reached the sink
  try {
    while (std::optional<Page> page = queue.pop()) {
      ++result.pages;
      check_total(result, total, *page);
      const auto returned = static_cast<std::int64_t>(page->packages.size());
      if (returned < step && (end_offset < 0 || page->offset < end_offset)) {
        end_offset = page->offset;
        end_returned = returned;
        end_total = page->total;
      }
      result.packages_received += returned;
      result.final_total = page->total;
      sink(*page);
      // In listing order the first short page ends the walk, as it does sequentially: pages
      // fetched past it by requests already in flight are dropped unseen.
      if (order_ == PageOrder::kListing && returned < step) {
        delivered_end = true;
        break;
      }
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  // In listing order a failed request past the end changes nothing: the whole listing was
  // delivered, as the sequential walk (which never makes that request) would have.
  if (worker_error && !delivered_end) std::rethrow_exception(worker_error);
  if (end_offset >= 0) check_early_end(result, end_offset + end_returned, end_total);
  return result;
}

}  // namespace esim
