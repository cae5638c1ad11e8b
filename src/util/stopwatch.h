#pragma once
// How long something took, on the monotonic clock: the one timer of the code base. Stopwatch
// measures one span; StepTimer names the steps of a sequence for a debug line. Knows nothing
// of esim-sync.
#include <chrono>
#include <functional>
#include <string>

namespace util {

class Stopwatch {
 public:
  using Clock = std::chrono::steady_clock;
  Clock::duration elapsed() const { return Clock::now() - started_; }
  long long elapsed_ms() const { return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed()).count(); }
  Clock::time_point started() const { return started_; }
  void restart() { started_ = Clock::now(); }

 private:
  Clock::time_point started_ = Clock::now();
};

// Milliseconds per named step; each step also calls a heartbeat, so a long sequence of
// statements still feeds a watchdog.
class StepTimer {
 public:
  explicit StepTimer(std::function<void()> heartbeat) : heartbeat_(std::move(heartbeat)) {}
  // Ends the step called `name`: "name 12 ms" is added to the report.
  void step(const char* name);
  const std::string& report() const { return report_; }

 private:
  std::function<void()> heartbeat_;
  Stopwatch since_last_;
  std::string report_;
};

}  // namespace util
