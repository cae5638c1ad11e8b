#pragma once
// The clock seam: code that stamps times or waits asks a Clock, so tests can fix the time.
#include <chrono>

namespace util {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace util
