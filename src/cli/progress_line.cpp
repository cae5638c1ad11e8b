#include "cli/progress_line.h"

#include <fmt/format.h>

#include <algorithm>

namespace esim {

std::string progress_text(std::int64_t packages, std::int64_t pages, std::int64_t total, double seconds) {
  std::string text = total >= 0 ? fmt::format("fetched {} of {} packages", packages, total)
                                : fmt::format("fetched {} packages", packages);
  text += fmt::format(", {} {}", pages, pages == 1 ? "page" : "pages");
  if (seconds > 0) text += fmt::format(", {:.0f} packages/s", static_cast<double>(packages) / seconds);
  return text;
}

void ProgressLine::update(std::int64_t packages, std::int64_t pages, std::int64_t total, Clock::time_point now) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  packages_ = packages;
  pages_ = pages;
  total_ = total;
  if (finished_ || (!shown_.empty() && now - drawn_at_ < kRedrawEvery)) return;
  draw(progress_text(packages_, pages_, total_, std::chrono::duration<double>(now - start_).count()));
  drawn_at_ = now;
}

void ProgressLine::interrupt(const std::function<void()>& write) {
  if (!enabled_) return write();
  std::lock_guard lock(mutex_);
  const std::string text = shown_;
  erase();
  write();
  if (!text.empty()) draw(text);
}

void ProgressLine::finish(Clock::time_point now) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (pages_ == 0 && shown_.empty()) return;  // nothing came: no figures to leave behind
  draw(progress_text(packages_, pages_, total_, std::chrono::duration<double>(now - start_).count()));
  out_ << "\n" << std::flush;
  shown_.clear();
}

void ProgressLine::draw(const std::string& text) {
  // Padded over the longer text drawn before, since \r only moves the cursor back.
  const std::size_t width = std::max(text.size(), shown_.size());
  out_ << '\r' << text << std::string(width - text.size(), ' ') << std::flush;
  shown_ = text;
}

void ProgressLine::erase() {
  if (shown_.empty()) return;
  out_ << '\r' << std::string(shown_.size(), ' ') << '\r' << std::flush;
  shown_.clear();
}

}  // namespace esim
