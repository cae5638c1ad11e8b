#pragma once
// Milliseconds per named step, for one debug line about a sequence of statements; each step
// also calls a heartbeat, so a long sequence still feeds a watchdog.
#include <chrono>
#include <functional>
#include <string>

namespace util {

class StepTimer {
 public:
  explicit StepTimer(std::function<void()> heartbeat) : heartbeat_(std::move(heartbeat)) {}
  // Ends the step called `name`: "name 12 ms" is added to the report.
  void step(const char* name);
  const std::string& report() const { return report_; }

 private:
  std::function<void()> heartbeat_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::string report_;
};

}  // namespace util
