#pragma once
// The HTTP face of the simulator: Betatel's GET /packages, plus /_sim/* controls for tests.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "catalog.h"
#include "odd_payloads.h"

namespace sim {

// What "total" says: the truth, a count frozen when the mode was set (a cache that lags while
// packages come and go), or an absurd number.
enum class TotalMode { kTruth, kFrozen, kAbsurd };

// How lookups (a filtered listing such as `sim=`, and GET /packages/{id}) answer: honestly, as
// if nothing matched, or leaving out every package that is not ACTIVE.
enum class LookupMode { kHonest, kEmpty, kOmitInactive };

struct ServerOptions {
  std::string api_key = "sim-key";
  std::string user_id = "sim-user";
  std::int64_t max_count = 1000;  // a larger count gives 400, as the real API
  int latency_ms = 0;
  RenderOptions render;
  // Random faults, each a share of package requests (seeded, so a run can be repeated).
  double fail_rate = 0.0;
  int fail_status = 503;
  double malformed_rate = 0.0;
  std::uint64_t fault_seed = 1;
  // Over this many package requests in one second: 429 with Retry-After: 1 (0: no limit).
  int rate_limit = 0;
  // Every N package requests, one new package appears at the front of the listing and one
  // random package vanishes: the listing moves while a client pages (0: never).
  int drift_every = 0;
  bool drift_anywhere = false;  // drift's arrivals land at random places, not only at the front

  // What a live listing may do beyond the documented contract (../shared/api/NOTES.md).
  TotalMode total_mode = TotalMode::kTruth;
  std::int64_t absurd_total = 10'000'000;
  std::int64_t larger_by = 0;      // pages hold this many more packages than asked
  bool ignore_sim_filter = false;  // answer `sim=` lookups with the unfiltered listing
  OddOptions odd;  // odd packages at the end of the unfiltered listing (odd_payloads.h)

  // A server that is silent rather than wrong (../shared/api/NOTES.md).
  bool empty_account = false;      // every request answers as if the account held nothing
  LookupMode lookups = LookupMode::kHonest;
  std::int64_t max_page_bytes = 0;  // pages cut once their body would pass this (0: no cap)
  int past_end_status = 0;          // an unfiltered request past the last package answers this (0: [])
  std::int64_t max_offset = 0;      // an unfiltered request from this offset on answers 400 (0: none)
  bool wrapped_package = false;     // GET /packages/{id} answers {"package": {...}}, not the bare object
  // SDK 1.0.10's counters in use: every walk of the unfiltered listing (a request at offset 0)
  // first drains the counters of every ACTIVE package (Catalog::drain_usage), so they change
  // between any two passes, as the real ones do. Needs render.sdk_fields to be seen.
  bool usage_drain = false;
  std::int64_t usage_drain_mib = 8;  // most MiB of data one ACTIVE package uses per walk
  bool sdk_templates = false;       // GET /package-templates in the SDK 1.0.10 shape, not the REST doc's
  // A second account on the same server: its user id (same key), and its own packages.
  std::string other_user_id;
};

// How an armed fault answers.
enum class FaultMode { kStatus, kMalformed, kOversize, kTrickle };

// Faults armed through POST /_sim/fail: after `after` more good answers, the next `times`
// package requests answer with the fault.
struct FaultPlan {
  int after = 0;
  int times = 0;
  FaultMode mode = FaultMode::kStatus;
  int status = 500;
  std::string retry_after;  // sent with a kStatus fault when set
};

class Server {
 public:
  // `other` serves options.other_user_id's requests, when given.
  Server(Catalog& catalog, ServerOptions options, Catalog* other = nullptr);
  ~Server();
  // Binds host:port (port 0 picks a free one) and returns the bound port, or -1.
  int bind(const std::string& host, int port);
  void serve();  // blocks until stop()
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // owned: a raw pointer here leaked the whole server at every exit
};

}  // namespace sim
