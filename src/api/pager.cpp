#include "api/pager.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

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
    throw std::runtime_error("the listing never ended: offset " + std::to_string(offset) +
                             " is far beyond its reported total " + std::to_string(first_total) +
                             " and pages keep coming back full; giving up");
  }
}

// The bytes a page holds in memory, near enough: its packages' JSON dominates.
std::size_t page_bytes(const Page& page) {
  std::size_t bytes = 0;
  for (const Package& p : page.packages) bytes += p.raw_json.size() + p.id.size() + 128;
  return bytes;
}

// Pages handed from the fetching workers to the calling thread. Bounded in pages and in bytes,
// so fast workers wait for the database instead of piling pages up in memory, however large
// the packages are (one page always fits, so a huge page still goes through).
class PageQueue {
 public:
  PageQueue(std::size_t capacity, std::size_t max_bytes) : capacity_(capacity), max_bytes_(max_bytes) {}

  // False when the consumer gave up (the page is dropped).
  bool push(Page page) {
    const std::size_t bytes = page_bytes(page);
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] {
      return closed_ || pages_.empty() || (pages_.size() < capacity_ && bytes_ + bytes <= max_bytes_);
    });
    if (closed_) return false;
    bytes_ += bytes;
    pages_.emplace_back(std::move(page), bytes);
    ready_.notify_one();
    return true;
  }

  // The next page; nullopt once every worker finished and the queue is empty.
  std::optional<Page> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !pages_.empty() || producers_ == 0; });
    if (pages_.empty()) return std::nullopt;
    Page page = std::move(pages_.front().first);
    bytes_ -= pages_.front().second;
    pages_.pop_front();
    space_.notify_one();
    return page;
  }

  void set_producers(int n) {
    std::lock_guard lock(mutex_);
    producers_ = n;
  }
  void producer_done() {
    std::lock_guard lock(mutex_);
    --producers_;
    ready_.notify_all();
  }
  void close() {  // the consumer stops: wake and release every worker
    std::lock_guard lock(mutex_);
    closed_ = true;
    pages_.clear();
    bytes_ = 0;
    space_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::pair<Page, std::size_t>> pages_;  // with their bytes
  std::size_t capacity_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  int producers_ = 0;
  bool closed_ = false;
};

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
  std::exception_ptr worker_error;
  PageQueue queue(static_cast<std::size_t>(2 * concurrency_), kQueueBytes);
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
          if (!queue.push(std::move(page))) break;
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!worker_error) worker_error = std::current_exception();
          stop = true;
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
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  if (worker_error) std::rethrow_exception(worker_error);
  if (end_offset >= 0) check_early_end(result, end_offset + end_returned, end_total);
  return result;
}

}  // namespace esim
