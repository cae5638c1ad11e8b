#pragma once
// One sync pass, start to finish: the story of what esim-sync does every interval.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/page_source.h"
#include "api/pager.h"
#include "store/store.h"
#include "sync/removal_proof.h"
#include "sync/template_walk.h"
#include "util/cancel.h"
#include "util/clock.h"

namespace esim {

// How a pass ended. Every caller (exit codes, metrics, logs, the scheduler) reads this one value.
enum class PassResult {
  kSucceeded,
  kFailed,     // nothing was applied (the reason is in `error` and `error_kind`)
  kAborted,    // stopped by a signal: nothing was applied
  kLockedOut,  // another esim-sync holds the writer lock: nothing was done
};
const char* to_string(PassResult result);  // "succeeded", "failed", "aborted", "locked_out"

struct PassOutcome {
  PassResult result = PassResult::kFailed;
  bool succeeded() const { return result == PassResult::kSucceeded; }
  RunId run = 0;  // 0: the pass could not even record itself (no database)
  PassCounts counts;
  int listing_attempts = 0;
  long long retries = 0;  // API requests retried during the pass (filled in by the daemon)
  bool removals_applied = false;  // false: the mass-removal guard held them back
  bool walk_complete = false;     // ended at an empty page with no sign that the listing moved
  bool listing_moved = false;     // the walk saw signs that the listing moved under it
  std::string warning;  // what was deferred or held back, when something was
  std::string error;    // why the pass failed, when it did (secrets redacted)
  // What failed (kAccount: the database mirrors another account, nothing was written);
  // kNone unless the pass failed, or could not start.
  FailureKind error_kind = FailureKind::kNone;
  std::chrono::milliseconds duration{0};
};

struct SyncSettings {
  int page_size = 100;
  std::vector<std::string> secrets;  // redacted from every error and log line
  std::chrono::seconds interval{900};  // schedule.interval, recorded on each run
  int concurrency = 1;                 // requests in flight; the source must be thread-safe if > 1
  int max_repaging = 2;                // extra walks when the listing moved and left too many candidates
  int max_removal_lookups = 1000;      // candidates checked by a lookup (GET /packages/{id}) per pass
  double max_removed_fraction = 0.2;   // the mass-removal guard
  bool allow_mass_removal = false;     // `once --allow-mass-removal`
  // Stops the pass between pages once cancelled (SIGTERM); null: never.
  const util::CancelToken* cancel = nullptr;
  // Called on every page and between steps, so a watchdog sees the pass is alive.
  std::function<void()> heartbeat;
  // `run`: keep the writer lock after the pass, as the leadership of a standby pair; it goes
  // with the session (the process) and is re-taken by the next pass if the session was lost.
  bool hold_writer_lock = false;
  // The account the mirror must hold (empty: not checked, as in tests of the pass alone), and
  // whether the operator moved the mirror to it (`once --adopt-account`).
  MirroredAccount account;
  bool adopt_account = false;
  TemplateWalkSettings templates;  // the plan catalogue, walked with every Nth pass
};

class SyncPass {
 public:
  SyncPass(PageSource& source, Store& store, const util::Clock& clock, SyncSettings settings);

  // Runs one pass. Failures (HTTP, payload, database) do not throw: they are recorded on the
  // run and returned, and nothing of the pass is applied.
  PassOutcome run();

 private:
  // One walk of the listing, staged and diffed against the mirror: what it implies.
  struct Walk {
    std::unique_ptr<PassDiff> diff;
    PagerResult paged;
    std::string moved;  // the first sign that the listing moved under it
    std::int64_t listing_bytes = 0;  // the pages' bodies, every walk of the pass
    const StagingSummary& staged() const { return diff->summary(); }
    // Ended at an empty page with no sign of movement (and, SyncPass adds, no lookup found a
    // package it lacked): the two-walk rule may count it.
    bool complete() const { return paged.ended_at_empty_page && moved.empty(); }
  };
  class Progress {
   public:
    Progress(RunId run, PassStaging& staging);
    void page(const Page& page, std::chrono::steady_clock::duration staging);
    std::string breakdown(std::chrono::steady_clock::time_point walked) const;
    std::chrono::steady_clock::time_point started() const { return started_; }

   private:
    static constexpr std::chrono::seconds kEvery{5};
    RunId run_;
    PassStaging& store_;  // where the progress is recorded
    std::int64_t pages_ = 0, packages_ = 0;
    std::chrono::microseconds requests_{0}, parsing_{0};
    std::chrono::steady_clock::duration staging_{0};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), last_ = started_;
  };

  // Takes the lock and records the run; moves started_at after the last pass's start if the
  // clock is behind it.
  bool begin(PassOutcome& outcome, TimePoint& started_at);
  Walk walk_listing(PassOutcome& outcome);
  // The guard judges what the walk lost: held, nothing is looked up or removed.
  std::string hold_removals(const StagingSummary& staged, PassOutcome& outcome) const;
  ProofResult prove_removals(Walk& walk, const PassOutcome& outcome);
  void decide_removals(const Walk& walk, const ProofResult& proof, std::string held, PassOutcome& outcome);
  void apply(Walk walk, const ProofResult& proof, TimePoint started_at, PassOutcome& outcome);
  // The watchdog's ping, and the point where a stop request ends the pass.
  void checkpoint();

  void warn_about_unknown_statuses(const std::vector<Package>& packages);
  void release_lock();
  // Records how the pass ended when it did not succeed (nothing of it was applied).
  void stopped_or_failed(PassOutcome& outcome, const std::exception& e, FailureKind kind);
  void record_abort(PassOutcome& outcome, const std::exception& e);
  void record_failure(PassOutcome& outcome, const std::exception& e, FailureKind kind);
  // The first sign that the listing moved while it was walked ("" if none).
  static std::string movement(const PagerResult& paged, const StagingSummary& staged);
  // What waits for the next walk, and why ("" if nothing).
  static std::string deferral_warning(const Walk& walk, const ProofResult& proof, bool complete);

  PageSource& source_;
  Store& store_;
  const util::Clock& clock_;
  SyncSettings settings_;
  std::unordered_set<std::string> warned_statuses_;
};

}  // namespace esim
