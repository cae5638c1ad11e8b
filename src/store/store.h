#pragma once
// The database seam: what one sync pass asks of its store. PgStore is the real one (PostgreSQL);
// tests of the pass logic use a fake that records what it was asked.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/failure.h"
#include "domain/package.h"
#include "domain/package_template.h"

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
  std::int64_t usage_changes = 0;   // listed before and now, with other usage counters (esim.package_usage)
  // How the removals were proven (removed = by_lookup + by_second_walk), and what waits.
  std::int64_t removed_by_lookup = 0;
  std::int64_t removed_by_second_walk = 0;
  std::int64_t removals_deferred = 0;  // candidates missed for the first time, not provable now
  std::int64_t lookups = 0;            // requests made to settle candidates (by id), controls included
  std::int64_t recovered_by_lookup = 0;  // candidates the walk skipped that a lookup found listed
  // Candidates whose lookup proved nothing: it failed, or a control in its batch (a package the
  // walk had just seen) was not found, so a "no such package" from that server meant nothing.
  std::int64_t lookups_inconclusive = 0;
};

// What was staged, and what removals it implies, before anything is applied.
struct StagingSummary {
  std::int64_t rows = 0;                // packages staged, duplicates included
  std::int64_t distinct_ids = 0;
  std::int64_t removal_candidates = 0;  // live packages the staged listing lacks
  std::int64_t live_packages = 0;       // live packages in the mirror now
  std::int64_t proven_gone = 0;         // candidates a lookup proved are no longer listed
  std::int64_t missed_before = 0;       // other candidates the previous applied walk lacked too
  // What the apply would remove, and what must wait for another walk.
  std::int64_t provable_removals() const { return proven_gone + missed_before; }
  std::int64_t deferred() const { return removal_candidates - provable_removals(); }
};

// A live package that a walk lacked, as the mirror has it, and the package the walk did see on
// the same SIM, if any (the control that resembles it most).
struct RemovalCandidate {
  std::string id;
  std::optional<std::string> sim;
  std::string status;
  std::optional<std::string> seen_on_same_sim;
};

// The account a mirror holds: the API's host and path and the user id (never the key).
struct MirroredAccount {
  std::string api_host;
  std::string api_path;
  std::string user_id;
  bool empty() const { return api_host.empty() && user_id.empty(); }
  std::string describe() const { return "user " + user_id + " at " + api_host + api_path; }
};

// The database mirrors another account than the configuration names (bind_account).
class WrongAccount : public Failure {
 public:
  explicit WrongAccount(const std::string& message) : Failure(FailureKind::kAccount, message) {}
};

// How the apply step is to treat the staged pass.
struct ApplyOptions {
  TimePoint seen_at;           // stamps every change of the pass
  bool apply_removals = true;  // false: the mass-removal guard holds every removal back
  int listing_attempts = 1;
  std::string warning;         // kept on the run row (what was deferred or held back)
  std::int64_t lookups = 0;    // recorded on the run row
  std::int64_t recovered_by_lookup = 0;
  std::int64_t lookups_inconclusive = 0;
  std::int64_t listing_bytes = 0;  // the listing's bodies as received: recorded beside what the pass sent
  // The walk ended at an empty page, saw no sign that the listing moved, and lacked nothing a
  // lookup found: only then (and with removals applied) does a second such walk that lacks a
  // package count as proof (the two-walk rule), and only then are its candidates remembered.
  bool walk_complete = true;
  // Called between the apply's statements: a long apply still feeds the watchdog.
  std::function<void()> heartbeat = nullptr;
  // A walk of the plan catalogue to apply with the pass (sync.templates_every); none: not walked.
  std::optional<TemplateListing> templates = std::nullopt;
};

// A pass in the store goes through two phases, each an object that the transition out of it
// consumes, so their order is a fact the compiler checks rather than a rule in a comment:
//
//   Store::open_pass -> PassStaging --PassStaging::diff--> PassDiff --PassDiff::apply--> PassCounts
//
// Nothing of a pass is visible to readers until apply(), which applies the whole pass in one
// transaction; destroying either phase instead leaves the database as it was.
class PassDiff;

// Phase 1, the walk: packages go in as the pager hands them over. Nothing can be asked of the
// staged listing yet; that is the diff's.
class PassStaging {
 public:
  virtual ~PassStaging() = default;
  virtual void stage(const std::vector<Package>& packages) = 0;
  // How far the walk got (packages so far), for `status` while the pass runs.
  virtual void record_progress(std::int64_t packages_seen) = 0;
  // The walk is over: staging ends (what is left is sent, and nothing more can be staged) and
  // the staged listing is diffed against the mirror.
  static std::unique_ptr<PassDiff> diff(std::unique_ptr<PassStaging> staging) { return staging->finish(); }

 private:
  virtual std::unique_ptr<PassDiff> finish() = 0;
};

// Phase 2: the staged listing diffed against the mirror. The removal proof asks it questions and
// adds what the lookups found; then it is applied, once.
class PassDiff {
 public:
  virtual ~PassDiff() = default;
  virtual const StagingSummary& summary() const = 0;
  // Up to `limit` live packages that the staged listing lacks, in id order.
  virtual std::vector<RemovalCandidate> removal_candidates(std::size_t limit) = 0;
  // Up to `n` ids that this walk saw, of `status` (of any status when empty), picked afresh
  // each time: the controls that show a lookup can find what is there.
  virtual std::vector<std::string> seen_packages(const std::string& status, std::size_t n) = 0;
  // What the lookups found: packages they listed (sightings, staged like the walk's) and the
  // candidates they proved are no longer listed. Returns the summary with both counted.
  virtual const StagingSummary& add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) = 0;
  // Writes only what changed, records the transitions, applies the proven removals (unless
  // options say no), remembers the unproven candidates for the next walk and marks the run
  // succeeded, all in one transaction.
  static PassCounts apply(std::unique_ptr<PassDiff> diff, const ApplyOptions& options) { return diff->commit(options); }

 private:
  virtual PassCounts commit(const ApplyOptions& options) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // One writer at a time per database: a session-level advisory lock held for the pass. False
  // when another esim-sync holds it. A lost connection releases it; the next pass re-takes it.
  virtual bool try_lock_writer() = 0;
  virtual void unlock_writer() = 0;
  // Under the writer lock, before anything of a pass is written: records the account at the
  // mirror's first pass; throws WrongAccount when the mirror holds another one, unless `adopt`
  // (the operator moved the mirror on purpose), which records the new one.
  virtual void bind_account(const MirroredAccount& account, bool adopt) = 0;
  // Under the writer lock, a run still 'running' belongs to a process that died: marks such
  // runs 'aborted' and returns how many there were.
  virtual std::int64_t abort_dead_runs() = 0;
  // Records a run as aborted (stopped by a signal); the pass's data was not applied.
  virtual void abort_run(RunId run, const std::string& reason) = 0;
  // Records a run as 'running' (committed at once, so a crash leaves a trace), with the
  // schedule interval in force, which esim.sync_health judges staleness by.
  virtual RunId start_run(TimePoint started_at, std::chrono::seconds interval) = 0;
  // Starts a pass's staging afresh (also to page the listing again); the previous phase of the
  // run must be gone.
  virtual std::unique_ptr<PassStaging> open_pass(RunId run) = 0;
  // Records a run as failed with its error; the pass's data was not applied. Neither this nor
  // abort_run touches a run that is no longer 'running' (its commit went through after all).
  virtual void fail_run(RunId run, const std::string& error) = 0;
  // The time of a pass that would start at `local`: never before the last pass started, so the
  // versions of a package keep a forward range when the clock steps back (NTP, another host).
  virtual TimePoint pass_time(TimePoint local) { return local; }
};

}  // namespace esim
