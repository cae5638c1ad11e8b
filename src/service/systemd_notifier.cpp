#include <systemd/sd-daemon.h>

#include "service/notifier.h"

namespace esim {

SystemdNotifier::SystemdNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) every_ = std::chrono::microseconds(usec / 4);
}

void SystemdNotifier::ready() { sd_notify(0, "READY=1"); }
void SystemdNotifier::status(const std::string& line) { sd_notify(0, ("STATUS=" + line).c_str()); }
void SystemdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SystemdNotifier::watchdog() {
  if (every_.count() == 0) return;
  // Pages, lookups and the scheduler all ping; one of them at a time is enough.
  if (busy_.exchange(true)) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ >= every_) {
    last_ = now;
    sd_notify(0, "WATCHDOG=1");
  }
  busy_ = false;
}

}  // namespace esim
