#pragma once
// Signals, handled on a thread of their own (so no work happens in a signal handler):
// SIGINT and SIGTERM cancel util::process_cancel_token(); SIGHUP asks for a config reload.
#include <atomic>

namespace esim {

// Call first thing in main, before any thread starts, so that every thread inherits the mask.
void start_signal_thread();

// True once after each SIGHUP.
bool take_reload_request();

}  // namespace esim
