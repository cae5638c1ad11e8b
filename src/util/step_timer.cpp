#include "util/step_timer.h"

namespace util {

void StepTimer::step(const char* name) {
  if (heartbeat_) heartbeat_();
  const auto now = std::chrono::steady_clock::now();
  report_ += (report_.empty() ? "" : ", ") + std::string(name) + " " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count()) + " ms";
  last_ = now;
}

}  // namespace util
