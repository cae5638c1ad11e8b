#pragma once
// The HTTP face of the simulator: Betatel's GET /packages, plus /_sim/* controls for tests.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "catalog.h"

namespace sim {

struct ServerOptions {
  std::string api_key = "sim-key";
  std::string user_id = "sim-user";
  std::int64_t max_count = 1000;  // a larger count gives 400, as the real API
  int latency_ms = 0;
  RenderOptions render;
};

// Faults armed through POST /_sim/fail: after `after` more good answers, the next `times`
// package requests fail with `status` (or a malformed body when status is 0).
struct FaultPlan {
  int after = 0;
  int times = 0;
  int status = 500;
};

class Server {
 public:
  Server(Catalog& catalog, ServerOptions options);
  // Binds host:port (port 0 picks a free one) and returns the bound port, or -1.
  int bind(const std::string& host, int port);
  void serve();  // blocks until stop()
  void stop();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace sim
