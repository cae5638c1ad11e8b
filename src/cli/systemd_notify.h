#pragma once
// Tells systemd how the daemon is doing (sd_notify). Every call is a no-op outside systemd.
#include <chrono>
#include <string>

namespace esim::systemd {

void ready();                             // READY=1: config, database and migrations are ready
void status(const std::string& line);     // STATUS=...: one line for `systemctl status`
void stopping();                          // STOPPING=1
// WATCHDOG=1 when WatchdogSec= is set, at most every half of it; cheap to call often.
void watchdog();

}  // namespace esim::systemd
