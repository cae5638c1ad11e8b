#include "cli/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <mutex>

namespace esim::systemd {

void ready() { sd_notify(0, "READY=1"); }
void status(const std::string& line) { sd_notify(0, ("STATUS=" + line).c_str()); }
void stopping() { sd_notify(0, "STOPPING=1"); }

void watchdog() {
  static std::once_flag once;
  static std::chrono::microseconds every{0};
  static std::mutex mutex;
  static std::chrono::steady_clock::time_point last{};
  std::call_once(once, [] {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) every = std::chrono::microseconds(usec / 4);
  });
  if (every.count() == 0) return;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (now - last < every) return;
  last = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace esim::systemd
