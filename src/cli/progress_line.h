#pragma once
// A live one-line progress report for a terminal (`fetch --all` on stderr), redrawn in place
// with \r. Disabled, it writes nothing at all: scripts and tests that read stderr see no change.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>

namespace esim {

// "fetched 1200 of 300000 packages, 12 pages, 4100 packages/s"; without "of N" while the
// total is not known (negative), without the rate before any time has passed.
std::string progress_text(std::int64_t packages, std::int64_t pages, std::int64_t total, double seconds);

class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  // Often enough to look live, rarely enough to cost nothing and not flicker.
  static constexpr std::chrono::milliseconds kRedrawEvery{200};

  ProgressLine(std::ostream& out, bool enabled, Clock::time_point start = Clock::now())
      : out_(out), enabled_(enabled), start_(start) {}

  // The figures so far; drawn when kRedrawEvery has passed since the last drawing.
  void update(std::int64_t packages, std::int64_t pages, std::int64_t total, Clock::time_point now = Clock::now());

  // Runs `write` (which writes whole lines to the same terminal: a log line, the data) with
  // the progress line erased, then draws the line again below what was written, so the
  // figures never trail another line's text.
  void interrupt(const std::function<void()>& write);

  // Draws the final figures and ends the line, so that what follows starts on a line of its
  // own (no line at all when no page came). Once only; later calls do nothing.
  void finish(Clock::time_point now = Clock::now());

 private:
  void draw(const std::string& text);  // under mutex_
  void erase();                        // under mutex_

  std::ostream& out_;
  const bool enabled_;
  const Clock::time_point start_;
  std::mutex mutex_;  // log lines come from the fetching threads
  std::int64_t packages_ = 0, pages_ = 0, total_ = -1;
  std::string shown_;  // what the terminal shows now ("" when nothing)
  Clock::time_point drawn_at_{};
  bool finished_ = false;
};

}  // namespace esim
