#include "service/signals.h"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "util/cancel.h"

namespace esim {

namespace {
std::atomic<bool> g_reload{false};
std::atomic<long long> g_stop_grace_ms{0};
std::atomic<int> g_stuck_exit_code{0};

void start_stop_deadline() {
  const long long grace = g_stop_grace_ms.load();
  if (grace <= 0) return;
  std::thread([grace] {
    std::this_thread::sleep_for(std::chrono::milliseconds(grace));
    spdlog::error("stop requested {} ms ago and the pass has not let go (the database answers nothing, not even a "
                  "cancel request); exiting now. The run stays 'running' until the next pass marks it aborted",
                  grace);
    spdlog::default_logger()->flush();
    std::_Exit(g_stuck_exit_code.load());
  }).detach();
}
}  // namespace

void arm_stop_deadline(std::chrono::milliseconds grace, int exit_code) {
  g_stuck_exit_code = exit_code;
  g_stop_grace_ms = grace.count();
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
      } else if (!util::process_cancel_token().cancelled()) {
        util::process_cancel_token().cancel();
        start_stop_deadline();
      }
    }
  }).detach();
}

bool take_reload_request() { return g_reload.exchange(false); }

}  // namespace esim
