#pragma once
// For tests of `esim-sync run`: the daemon in the background, polling helpers, a slow API.
#include <chrono>
#include <memory>
#include <thread>

#include "e2e/e2e_fixture.h"

namespace esim::testing {

// The HTTP status of a GET, 0 while nothing listens.
inline long status_of(const std::string& url, std::string* body = nullptr) {
  try {
    return http_get(url, body);
  } catch (const std::exception&) {
    return 0;
  }
}

// Polls until pred() or about `seconds` pass.
template <typename Pred>
bool eventually(Pred pred, int seconds = 15) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

class Daemon : public EndToEnd {
 protected:
  Daemon() : EndToEnd({"--packages", "2500", "--seed", "5"}) {}

  std::unique_ptr<BackgroundProcess> start_daemon(const std::string& log = "run.log",
                                                  std::map<std::string, std::string> env = {}) {
    env.emplace("E2E_API_KEY", kSimKey);
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file(log), env);
  }

  static constexpr const char* kSucceededPasses = "SELECT count(*) FROM esim.sync_runs WHERE status = 'succeeded'";
  // For waits: 0 until the daemon has migrated. A baseline to compare with is count(kSucceededPasses).
  int succeeded_passes() { return polled_count(kSucceededPasses); }

  // Adds metrics.listen on a free port to the config; returns the listener's base URL.
  std::string listen_for_metrics() {
    const int port = free_port();
    dir.write("config.yaml", read_file(dir.file("config.yaml")) + "metrics:\n  listen: 127.0.0.1:" +
                                 std::to_string(port) + "\n");
    return "http://127.0.0.1:" + std::to_string(port);
  }
};

}  // namespace esim::testing
