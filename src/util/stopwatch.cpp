#include "util/stopwatch.h"

namespace util {

void StepTimer::step(const char* name) {
  if (heartbeat_) heartbeat_();
  report_ += (report_.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(since_last_.elapsed_ms()) + " ms";
  since_last_.restart();
}

}  // namespace util
