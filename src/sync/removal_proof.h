#pragma once
// Settles removal candidates. A live package that a walk of the listing lacked was either
// skipped (the listing moved under the pager) or is gone. A lookup by its SIM
// (GET /packages?sim=ICCID lists every package on that SIM) tells which.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "api/packages_client.h"
#include "store/store.h"

namespace esim {

struct ProofResult {
  std::vector<Package> listed;    // every package the lookups returned: sightings to stage
  std::vector<std::string> gone;  // candidates that their SIM's listing lacks: proven gone
  std::int64_t lookups = 0;       // requests made
  std::int64_t recovered = 0;     // candidates found still listed (the walk had skipped them)
  // Candidates left unsettled, by reason (they wait for a second walk).
  std::int64_t without_sim = 0;
  std::int64_t not_looked_up = 0;  // the server ignores the filter, or a lookup failed
  // Why lookups cannot be trusted on this server ("" when they can): said once per pass.
  std::string filter_ignored;
  std::string lookup_error;  // the first lookup that failed, if any
};

class RemovalProof {
 public:
  // `beat` runs on the calling thread between lookups (watchdog, cancellation: it may throw
  // to stop). With concurrency > 1 the source is called from that many threads at once.
  RemovalProof(PageSource& source, int page_size, int concurrency, std::function<void()> beat)
      : source_(source), page_size_(page_size), concurrency_(concurrency), beat_(std::move(beat)) {}

  ProofResult settle(const std::vector<RemovalCandidate>& candidates);

 private:
  struct Lookup;
  // Walks one SIM's listing and records what it proves; false when the server ignored the filter.
  bool look_up(Lookup& lookup, ProofResult& result);

  PageSource& source_;
  int page_size_;
  int concurrency_;
  std::function<void()> beat_;
  std::mutex result_mutex_;  // lookups run on several threads; their results meet here
};

}  // namespace esim
