#include "api/page_queue.h"

namespace esim {

namespace {

// The bytes a page holds in memory, near enough: its packages' JSON dominates.
std::size_t page_bytes(const Page& page) {
  std::size_t bytes = 0;
  for (const Package& p : page.packages) bytes += p.raw_json.size() + p.id.size() + 128;
  return bytes;
}

}  // namespace

bool PageQueue::has_room(std::int64_t index, std::size_t bytes) const {
  const bool fits = bytes_ + bytes <= max_bytes_;
  if (order_ == PageOrder::kArrival) return pages_.empty() || (pages_.size() < capacity_ && fits);
  return index == due_ || (index < due_ + static_cast<std::int64_t>(capacity_) && fits);
}

bool PageQueue::can_pop() const {
  if (pages_.empty()) return false;
  return order_ == PageOrder::kArrival || pages_.begin()->first == due_;
}

bool PageQueue::push(std::int64_t index, Page page) {
  const std::size_t bytes = page_bytes(page);
  std::unique_lock lock(mutex_);
  space_.wait(lock, [&] { return closed_ || past_lost(index) || has_room(index, bytes); });
  if (closed_ || past_lost(index)) return false;
  bytes_ += bytes;
  pages_.emplace(order_ == PageOrder::kListing ? index : arrivals_++, std::make_pair(std::move(page), bytes));
  ready_.notify_one();
  return true;
}

std::optional<Page> PageQueue::pop() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return closed_ || can_pop() || producers_ == 0 || due_is_lost(); });
  if (closed_ || !can_pop()) return std::nullopt;
  auto first = pages_.begin();
  Page page = std::move(first->second.first);
  bytes_ -= first->second.second;
  pages_.erase(first);
  if (order_ == PageOrder::kArrival) {
    space_.notify_one();
  } else {
    // Each waiting worker waits for its own page's turn: wake them all to see whose it is.
    ++due_;
    space_.notify_all();
  }
  return page;
}

void PageQueue::lose(std::int64_t index) {
  std::lock_guard lock(mutex_);
  if (index >= lost_) return;
  lost_ = index;
  if (order_ == PageOrder::kListing) {
    pages_.erase(pages_.upper_bound(index), pages_.end());  // kept in order, so they follow it
    bytes_ = 0;
    for (const auto& entry : pages_) bytes_ += entry.second.second;
  }
  space_.notify_all();
  ready_.notify_all();
}

void PageQueue::set_producers(int n) {
  std::lock_guard lock(mutex_);
  producers_ = n;
}

void PageQueue::producer_done() {
  std::lock_guard lock(mutex_);
  --producers_;
  ready_.notify_all();
}

void PageQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  pages_.clear();
  bytes_ = 0;
  space_.notify_all();
  ready_.notify_all();
}

}  // namespace esim
