#pragma once
// The clock seam: code that stamps times or waits asks a Clock, so tests can fix the time.
#include <algorithm>
#include <chrono>
#include <thread>

#include "util/cancel.h"

namespace util {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Waits (a retry's backoff, say). Fakes record the wait and move their time instead.
  virtual void sleep_for(std::chrono::milliseconds duration) const = 0;
};

// Real time. Its waits end early when the process is asked to stop (SIGTERM), so a retry's
// backoff never holds up a shutdown.
class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds duration) const override {
    const auto until = std::chrono::steady_clock::now() + duration;
    while (!process_cancel_token().cancelled()) {
      const auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
    }
  }
};

}  // namespace util
