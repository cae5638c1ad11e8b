#include "api/pager.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace esim {

namespace {

// Notes the first sign that the listing moved; later signs add nothing.
void note_inconsistency(PagerResult& result, const std::string& reason) {
  if (result.incomplete_reason.empty()) result.incomplete_reason = reason;
}

void check_total(PagerResult& result, std::int64_t first_total, const Page& page) {
  if (page.total != first_total) {
    note_inconsistency(result, "the listing's total moved from " + std::to_string(first_total) + " to " +
                                   std::to_string(page.total) + " during the pass");
  }
}

// Pages handed from the fetching workers to the calling thread. Bounded, so fast workers wait
// for the database instead of piling pages up in memory.
class PageQueue {
 public:
  explicit PageQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when the consumer gave up (the page is dropped).
  bool push(Page page) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return pages_.size() < capacity_ || closed_; });
    if (closed_) return false;
    pages_.push_back(std::move(page));
    ready_.notify_one();
    return true;
  }

  // The next page; nullopt once every worker finished and the queue is empty.
  std::optional<Page> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !pages_.empty() || producers_ == 0; });
    if (pages_.empty()) return std::nullopt;
    Page page = std::move(pages_.front());
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
    space_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Page> pages_;
  std::size_t capacity_;
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
  std::int64_t smallest_page = page_size_;
  for (;;) {
    Page page = source_.fetch_page(offset, page_size_);
    ++result.pages;
    if (first_total < 0) first_total = page.total;
    check_total(result, first_total, page);
    result.final_total = page.total;
    const auto returned = static_cast<std::int64_t>(page.packages.size());
    result.packages_received += returned;
    sink(page);

    if (returned == 0) {
      if (offset < page.total) {
        note_inconsistency(result, "an empty page came back at offset " + std::to_string(offset) +
                                       " before the reported total " + std::to_string(page.total));
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

PagerResult Pager::run_concurrent(const PageSink& sink) {
  PagerResult result;
  Page first = source_.fetch_page(0, page_size_);
  const std::int64_t total = first.total;
  // The server may honour a smaller page size than asked; its first page tells which.
  const auto step = static_cast<std::int64_t>(
      first.packages.empty() ? page_size_ : std::min<std::size_t>(first.packages.size(), page_size_));
  result.pages = 1;
  result.final_total = total;
  result.packages_received = static_cast<std::int64_t>(first.packages.size());
  const bool first_is_all = first.packages.empty() || step >= total;
  if (first.packages.empty() && total > 0) {
    note_inconsistency(result, "an empty page came back at offset 0 before the reported total " +
                                   std::to_string(total));
  }
  sink(first);
  first = Page{};
  if (first_is_all) {
    result.complete = result.incomplete_reason.empty();
    return result;
  }

  const std::int64_t page_count = (total - step + step - 1) / step;  // pages after the first
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr worker_error;
  PageQueue queue(static_cast<std::size_t>(2 * concurrency_));
  const int workers = static_cast<int>(std::min<std::int64_t>(concurrency_, page_count));
  queue.set_producers(workers);

  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      while (!stop) {
        const std::int64_t index = next++;
        if (index >= page_count) break;
        try {
          if (!queue.push(source_.fetch_page(step + index * step, static_cast<int>(step)))) break;
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
  try {
    while (std::optional<Page> page = queue.pop()) {
      ++result.pages;
      check_total(result, total, *page);
      const auto returned = static_cast<std::int64_t>(page->packages.size());
      if (returned == 0 && page->offset < total) {
        note_inconsistency(result, "an empty page came back at offset " + std::to_string(page->offset) +
                                       " before the reported total " + std::to_string(total));
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
  result.complete = result.incomplete_reason.empty();
  return result;
}

}  // namespace esim
