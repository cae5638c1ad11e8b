#pragma once
// The database seam: what one sync pass asks of its store. PgStore is the real one (PostgreSQL);
// tests of the pass logic use a fake that records what it was asked.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/package.h"

namespace esim {

using RunId = std::int64_t;
using TimePoint = std::chrono::system_clock::time_point;

struct PassCounts {
  std::int64_t packages_seen = 0;   // distinct ids listed by the pass
  std::int64_t inserted = 0;        // never seen before
  std::int64_t updated = 0;         // some field changed, or listed again after removal
  std::int64_t unchanged = 0;       // listed, identical: not written at all
  std::int64_t removed = 0;         // no longer listed, so removed_at was set
  std::int64_t status_changes = 0;  // listed before and now, with a different status
};

// The packages of one pass on their way into the database. Nothing of them is visible to
// readers until commit(), which applies the whole pass in one transaction; destroying the
// writer without commit() leaves the database as it was.
class PassWriter {
 public:
  virtual ~PassWriter() = default;
  virtual void stage(const std::vector<Package>& packages) = 0;
  // Diffs the staged packages against the mirror, writes only what changed, records the
  // transitions and marks the run succeeded, all at once. Removals only when allowed (a
  // complete pass); seen_at stamps every change; a non-empty note is kept on the run row
  // (why removals were skipped, say).
  virtual PassCounts commit(TimePoint seen_at, bool apply_removals, const std::string& note) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Records a run as 'running' (committed at once, so a crash leaves a trace), with the
  // schedule interval in force, which esim.sync_health judges staleness by.
  virtual RunId start_run(TimePoint started_at, std::chrono::seconds interval) = 0;
  virtual std::unique_ptr<PassWriter> open_pass(RunId run) = 0;
  // Records a run as failed with its error; the pass's data was not applied.
  virtual void fail_run(RunId run, const std::string& error) = 0;
};

}  // namespace esim
