#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <thread>

#include "util/cancel.h"

namespace esim {

namespace {
std::atomic<bool> g_reload{false};
}

void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer that hangs up (a metrics scraper, the API, PostgreSQL) must cost an error, not the
  // process: writes to closed sockets return EPIPE instead of killing us.
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (signal == SIGHUP) {
        g_reload = true;
      } else {
        util::process_cancel_token().cancel();
      }
    }
  }).detach();
}

bool take_reload_request() { return g_reload.exchange(false); }

}  // namespace esim
