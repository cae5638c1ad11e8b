#pragma once
// The clock seam: code that stamps times or waits asks a Clock, so tests can fix the time.
#include <chrono>
#include <thread>

namespace util {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Waits (a retry's backoff, say). Fakes record the wait and move their time instead.
  virtual void sleep_for(std::chrono::milliseconds duration) const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds duration) const override { std::this_thread::sleep_for(duration); }
};

}  // namespace util
