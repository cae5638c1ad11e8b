#pragma once
// Log lines while a progress line is on the terminal: a warning (a retry, an odd package) is
// written above the progress line instead of trailing its figures, and the line comes back
// below it.
#include <spdlog/common.h>

#include <vector>

#include "cli/progress_line.h"

namespace esim {

// While it lives, the default logger's sinks write through `line.interrupt`. Make it after the
// line and before any thread logs; it must go before the line does.
class ProgressAwareLogging {
 public:
  explicit ProgressAwareLogging(ProgressLine& line);
  ~ProgressAwareLogging();
  ProgressAwareLogging(const ProgressAwareLogging&) = delete;
  ProgressAwareLogging& operator=(const ProgressAwareLogging&) = delete;

 private:
  std::vector<spdlog::sink_ptr> saved_;
};

}  // namespace esim
