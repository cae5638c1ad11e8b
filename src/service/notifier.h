#pragma once
// The supervisor seam: how the service tells whoever runs it how it is doing. SystemdNotifier
// speaks sd_notify (every call a no-op outside systemd); tests use a fake that records.
#include <atomic>
#include <chrono>
#include <string>

namespace esim {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void ready() = 0;                           // READY=1: config, database and migrations are ready
  virtual void status(const std::string& line) = 0;  // one line for `systemctl status`
  virtual void stopping() = 0;                        // STOPPING=1
  // WATCHDOG=1 when the supervisor watches; cheap to call often.
  virtual void watchdog() = 0;
};

class SystemdNotifier final : public Notifier {
 public:
  SystemdNotifier();
  void ready() override;
  void status(const std::string& line) override;
  void stopping() override;
  // At most every quarter of WatchdogSec=, from any thread.
  void watchdog() override;

 private:
  std::chrono::microseconds every_{0};  // 0: no watchdog configured
  std::chrono::steady_clock::time_point last_{};
  std::atomic<bool> busy_{false};
};

}  // namespace esim
