#pragma once
// Signals, handled on a thread of their own (so no work happens in a signal handler):
// SIGINT and SIGTERM cancel util::process_cancel_token(); SIGHUP asks for a config reload.
#include <atomic>
#include <chrono>

namespace esim {

// Call first thing in main, before any thread starts, so that every thread inherits the mask.
void start_signal_thread();

// True once after each SIGHUP.
bool take_reload_request();

// After a stop request, the process gets `grace` to wind down by itself (cancel its query,
// record the run aborted); if it has not exited by then (a database that answers nothing, not
// even a cancel request), it exits with `exit_code` anyway. The next pass marks the run that
// was left 'running' as aborted.
void arm_stop_deadline(std::chrono::milliseconds grace, int exit_code);

// Well inside systemd's TimeoutStopSec (30 s in the unit), so a stop never ends in SIGKILL.
inline constexpr std::chrono::seconds kStopGrace{8};

}  // namespace esim
