#include "sync/sync_pass.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "sync/removal_proof.h"
#include "util/log_fields.h"
#include "util/redact.h"
#include "util/stopwatch.h"

namespace esim {

const char* to_string(PassResult result) {
  switch (result) {
    case PassResult::kSucceeded: return "succeeded";
    case PassResult::kFailed: return "failed";
    case PassResult::kAborted: return "aborted";
    case PassResult::kLockedOut: return "locked_out";
  }
  return "failed";
}

namespace {

// Odd values (the parser's warnings) of one pass: the first few logged as they come, the rest
// counted by kind and said in one line at the end. Memory is a few counters however many
// packages are odd (a set of every warning took 36 MB at 200,000 odd packages).
class OddValues {
 public:
  void add(const std::vector<std::string>& warnings) {
    for (const std::string& warning : warnings) {
      if (++seen_ <= kNamed) spdlog::warn("{}", warning);
      ++counts_[kind_of(warning)];
    }
  }
  void summarise(RunId run) const {
    if (seen_ <= kNamed) return;  // every one was named
    std::vector<std::string> kinds;
    for (std::size_t k = 0; k < kKinds.size(); ++k) {
      if (counts_[k] > 0) kinds.push_back(fmt::format("{} {}", counts_[k], kKinds[k].label));
    }
    spdlog::warn("pass {}: {} odd values in the listing, the first {} named above: {}", run, seen_, kNamed,
                 fmt::join(kinds, "; "));
  }

 private:
  static constexpr std::int64_t kNamed = 10;  // as many as the parser names of one package
  struct Kind {
    const char* phrase;  // how the parser's warning says it ("" matches anything)
    const char* label;
  };
  static constexpr std::array<Kind, 8> kKinds{{
      {"\\u0000", "\\u0000 replaced"},
      {"unpaired surrogate", "unpaired surrogates replaced"},
      {"PostgreSQL's numeric", "numbers beyond numeric, stored as null"},
      {"beyond 64 bits", "numbers beyond 64 bits, stored as NULL"},
      {" bytes, more than ", "text too long to index, stored as NULL"},
      {"timestamptz", "dates beyond timestamptz"},
      {"more odd values", "packages with more odd values than named"},
      {"", "other"},
  }};
  static std::size_t kind_of(const std::string& warning) {
    std::size_t k = 0;
    while (warning.find(kKinds[k].phrase) == std::string::npos) ++k;  // the last matches anything
    return k;
  }
  std::int64_t seen_ = 0;
  std::array<std::int64_t, kKinds.size()> counts_{};
};

}  // namespace

SyncPass::SyncPass(PageSource& source, Store& store, const util::Clock& clock, SyncSettings settings)
    : source_(source), store_(store), clock_(clock), settings_(std::move(settings)) {}

// Each undocumented status once a pass, the first few by name: a listing with a million
// distinct statuses must not take a million log lines (nor a search of those told for each).
void SyncPass::warn_about_unknown_statuses(const std::vector<Package>& packages) {
  constexpr std::size_t kNamed = 20;
  for (const Package& p : packages) {
    if (is_documented_status(p.status)) continue;
    if (warned_statuses_.size() > kNamed || !warned_statuses_.insert(p.status).second) continue;
    if (warned_statuses_.size() <= kNamed) {
      spdlog::warn("package {} has status \"{}\", which Betatel does not document; stored as sent", p.id, p.status);
    } else {
      spdlog::warn("package {} has status \"{}\", and more undocumented statuses follow; all stored as sent", p.id,
                   p.status);
    }
  }
}

std::string SyncPass::movement(const PagerResult& paged, const StagingSummary& staged) {
  if (!paged.moved.empty()) return paged.moved;
  if (staged.rows != staged.distinct_ids) {
    return std::to_string(staged.rows - staged.distinct_ids) + " package(s) came twice (the listing shifted)";
  }
  if (staged.distinct_ids != paged.final_total) {
    return "saw " + std::to_string(staged.distinct_ids) + " distinct packages but the listing reports " +
           std::to_string(paged.final_total);
  }
  return "";
}

// The mass-removal guard judges what the walk lost, not what lookups proved: a server that
// answers as if the account were empty answers its lookups the same way. Above
// sync.max_removed_fraction the pass applies what it saw, removes nothing and asks nothing.
std::string SyncPass::hold_removals(const StagingSummary& staged, PassOutcome& outcome) const {
  const std::int64_t lost = staged.removal_candidates;
  if (settings_.allow_mass_removal || lost == 0 || staged.live_packages == 0) return "";
  const double share = static_cast<double>(lost) / static_cast<double>(staged.live_packages);
  if (share <= settings_.max_removed_fraction) return "";
  std::string guard = fmt::format(
      "removal guard: {} of {} live packages ({:.1f}%) are no longer listed, above sync.max_removed_fraction "
      "({:.1f}%); no removals applied and none looked up, the packages listed were applied. If the listing really "
      "shrank, run `esim-sync once --allow-mass-removal`",
      lost, staged.live_packages, 100.0 * share, 100.0 * settings_.max_removed_fraction);
  spdlog::error("pass {}: {}", outcome.run, guard);
  return guard;
}

std::string SyncPass::deferral_warning(const Walk& walk, const ProofResult& proof, bool complete) {
  const StagingSummary& staged = walk.staged();
  const std::int64_t waiting =
      staged.removal_candidates - staged.proven_gone - (complete ? staged.missed_before : 0);
  if (waiting <= 0) return "";
  std::vector<std::string> why;
  if (proof.inconclusive > 0) why.push_back(fmt::format("{} whose lookup proved nothing: {}", proof.inconclusive, proof.why_inconclusive));
  if (proof.not_looked_up > 0) why.push_back(std::to_string(proof.not_looked_up) + " with an id altered when stored");
  const std::int64_t over = waiting - proof.inconclusive - proof.not_looked_up;
  if (over > 0) why.push_back(std::to_string(over) + " beyond sync.max_removal_lookups");
  if (!complete) {
    why.push_back("this walk " +
                  (!walk.moved.empty()              ? std::string("saw the listing move")
                   : !walk.paged.ended_at_empty_page ? std::string("did not end at an empty page")
                                                     : "lacked packages that lookups found") +
                  ", so it cannot count as a second walk");
  }
  return fmt::format("{} removal(s) deferred: the walk lacked them and no lookup proved them gone ({}); "
                     "they are removed if two complete walks in a row lack them",
                     waiting, fmt::join(why, "; "));
}

void SyncPass::release_lock() {
  try {
    store_.unlock_writer();
  } catch (const std::exception&) {
    // A broken connection released the lock with the session.
  }
}

PassOutcome SyncPass::run() {
  const util::Stopwatch whole_pass;
  PassOutcome outcome;
  TimePoint started_at = clock_.now();
  // The steps are numbered as in ARCHITECTURE.md, "One pass, as a story".
  // 1. Take the writer lock, check the account, mark dead runs aborted, record this run.
  if (begin(outcome, started_at)) {
    util::LogFields fields{{"run_id", outcome.run}};
    spdlog::info("pass {} started", outcome.run);
    try {
      Walk walk = walk_listing(outcome);                          // 2. the listing into staging; 3. its diff
      std::string held = hold_removals(walk.staged(), outcome);   // 4. the guard: what the walk lost
      ProofResult proof = held.empty() ? prove_removals(walk, outcome) : ProofResult{};  // 5. lookups
      decide_removals(walk, proof, std::move(held), outcome);     //    what is removed now, what waits
      apply(std::move(walk), proof, started_at, outcome);         // 6. one transaction
    } catch (const util::Cancelled& e) {  // 7. Or stop, or fail, having applied nothing.
      record_abort(outcome, e);
    } catch (const Failure& e) {
      stopped_or_failed(outcome, e, e.kind());
    } catch (const std::exception& e) {
      stopped_or_failed(outcome, e, FailureKind::kDatabase);
    }
  }
  outcome.duration = std::chrono::milliseconds(whole_pass.elapsed_ms());
  // 8. In `run`, the lock stays with the session: it is the leadership of a standby pair. A
  //    pass that was locked out holds nothing to release.
  if (!settings_.hold_writer_lock && outcome.result != PassResult::kLockedOut) release_lock();
  return outcome;
}

bool SyncPass::begin(PassOutcome& outcome, TimePoint& started_at) {
  try {
    // One writer per database: another esim-sync (a standby, or started twice) may hold it.
    if (!store_.try_lock_writer()) {
      outcome.result = PassResult::kLockedOut;
      return false;
    }
    // Before anything is written: this database mirrors one account.
    if (!settings_.account.empty()) store_.bind_account(settings_.account, settings_.adopt_account);
    // Holding the lock, any run still 'running' was left by a process that died.
    if (std::int64_t dead = store_.abort_dead_runs(); dead > 0) {
      spdlog::warn("marked {} run(s) left 'running' by a stopped process as aborted", dead);
    }
    // A clock behind the last pass (NTP stepped back, another host) must not stamp changes
    // before the versions they supersede.
    started_at = store_.pass_time(started_at);
    // Leave a trace first: a run that dies midway is still visible as 'running'.
    outcome.run = store_.start_run(started_at, settings_.interval);
    return true;
  } catch (const WrongAccount& e) {
    outcome.error = util::redact(e.what(), settings_.secrets);
    outcome.error_kind = e.kind();
    util::LogFields fields;
    fields.add("error_kind", to_string(outcome.error_kind));
    spdlog::error("refused: {}", outcome.error);
    return false;
  } catch (const std::exception& e) {
    outcome.error = util::redact(std::string("cannot start the run: ") + e.what(), settings_.secrets);
    outcome.error_kind = FailureKind::kDatabase;
    util::LogFields fields;
    fields.add("error_kind", to_string(outcome.error_kind));
    spdlog::error("sync pass failed: {}", outcome.error);
    return false;
  }
}

SyncPass::Walk SyncPass::walk_listing(PassOutcome& outcome) {
  // Memory holds a few pages. A walk that saw the listing move and left more candidates than
  // lookups may settle walks again.
  Walk walk;
  OddValues odd_values;  // a few named, the rest counted: a line per package would be 200,000
  for (outcome.listing_attempts = 1;; ++outcome.listing_attempts) {
    walk.diff.reset();  // the previous walk's phase goes before the next one opens
    std::unique_ptr<PassStaging> staging = store_.open_pass(outcome.run);
    Progress progress(outcome.run, *staging);
    walk.paged = Pager(source_, settings_.page_size, settings_.concurrency, PageOrder::kListing).run([&](const Page& page) {
      const util::Stopwatch handed;
      checkpoint();
      warn_about_unknown_statuses(page.packages);
      if (outcome.listing_attempts == 1) odd_values.add(page.warnings);  // a walk again finds the same
      staging->stage(page.packages);
      walk.listing_bytes += static_cast<std::int64_t>(page.body_bytes);
      progress.page(page, handed.elapsed());
    });
    const util::Stopwatch since_walked;
    if (outcome.listing_attempts == 1) odd_values.summarise(outcome.run);
    walk.diff = PassStaging::diff(std::move(staging));
    spdlog::debug("pass {}: {}; summary (the diff) {} ms", outcome.run, progress.breakdown(since_walked.started()),
                  since_walked.elapsed_ms());
    walk.moved = movement(walk.paged, walk.staged());
    if (walk.moved.empty()) break;
    spdlog::info("pass {}: the listing moved while paging ({})", outcome.run, walk.moved);
    if (walk.staged().removal_candidates <= settings_.max_removal_lookups ||
        outcome.listing_attempts > settings_.max_repaging) {
      break;
    }
    spdlog::warn("pass {}: {} removal candidates, more than sync.max_removal_lookups; paging again", outcome.run,
                 walk.staged().removal_candidates);
  }
  outcome.listing_moved = !walk.moved.empty();
  return walk;
}

ProofResult SyncPass::prove_removals(Walk& walk, const PassOutcome& outcome) {
  // A package the walk lacked is gone only on proof: the server, asked for it by id, says it
  // has no such package while it finds the packages the walk has just seen. One it finds was
  // skipped by the walk and is applied as seen.
  ProofResult proof;
  if (walk.staged().removal_candidates == 0) return proof;
  const util::Stopwatch proving;
  checkpoint();
  PassDiff& diff = *walk.diff;
  proof = RemovalProof(source_, [&diff](const std::string& status, std::size_t n) { return diff.seen_packages(status, n); },
                       settings_.concurrency, [this] { checkpoint(); })
              .settle(diff.removal_candidates(static_cast<std::size_t>(settings_.max_removal_lookups)));
  if (proof.inconclusive > 0) {
    spdlog::warn("pass {}: {} removal lookup(s) proved nothing: {}", outcome.run, proof.inconclusive,
                 proof.why_inconclusive);
  }
  warn_about_unknown_statuses(proof.listed);
  diff.add_proof(proof.listed, proof.gone);
  spdlog::debug("pass {}: proof {} ms ({} lookups)", outcome.run,
                proving.elapsed_ms(),
                proof.lookups);
  return proof;
}

void SyncPass::decide_removals(const Walk& walk, const ProofResult& proof, std::string held, PassOutcome& outcome) {
  // Removals proven either way apply now, unless the walk lost implausibly many packages.
  std::vector<std::string> warnings;
  // A walk that lacked packages the server still holds (lookups found them) is incomplete,
  // however cleanly it ended: its misses are no evidence for the two-walk rule.
  outcome.walk_complete = walk.complete() && proof.recovered == 0;
  outcome.removals_applied = held.empty();
  if (!held.empty()) {
    warnings.push_back(std::move(held));
  } else if (std::string deferred = deferral_warning(walk, proof, outcome.walk_complete); !deferred.empty()) {
    spdlog::warn("pass {}: {}", outcome.run, deferred);
    warnings.push_back(std::move(deferred));
  }
  outcome.warning = fmt::format("{}", fmt::join(warnings, "; "));
}

void SyncPass::apply(Walk walk, const ProofResult& proof, TimePoint started_at, PassOutcome& outcome) {
  checkpoint();
  auto templates = walk_templates_if_due(settings_.templates, outcome.run, outcome.warning);  // every Nth pass
  ApplyOptions apply{started_at, outcome.removals_applied, outcome.listing_attempts, outcome.warning};
  apply.templates = std::move(templates);
  apply.lookups = proof.lookups;
  apply.recovered_by_lookup = proof.recovered;
  apply.lookups_inconclusive = proof.inconclusive;
  apply.walk_complete = outcome.walk_complete;
  apply.listing_bytes = walk.listing_bytes;
  apply.heartbeat = [this] {
    if (settings_.heartbeat) settings_.heartbeat();
  };
  const StagingSummary staged = walk.staged();  // the diff goes with the apply
  outcome.counts = PassDiff::apply(std::move(walk.diff), apply);
  outcome.result = PassResult::kSucceeded;
  // A first load finds duplicates only as it inserts (the summary of an empty mirror assumes none).
  // Not after lookups: they stage every package of a SIM, the walk's own sightings included, and
  // the summary that counted them was a diff, whose distinct ids are exact.
  if (!outcome.listing_moved && proof.listed.empty() && outcome.counts.packages_seen != staged.rows) {
    outcome.listing_moved = true;
    spdlog::info("pass {}: the listing moved while paging ({} package(s) came twice)", outcome.run,
                 staged.rows - outcome.counts.packages_seen);
  }
  const PassCounts& c = outcome.counts;
  util::LogFields fields{{"packages_seen", c.packages_seen}, {"inserted", c.inserted}, {"updated", c.updated},
                         {"removed", c.removed}, {"status_changes", c.status_changes}, {"lookups", c.lookups}};
  spdlog::info(
      "pass {} succeeded: {} packages in {} pages; {} inserted, {} updated, {} unchanged, "
      "{} removed ({} by lookup, {} by a second walk, {} deferred), {} status changes; {} lookups "
      "found {} skipped by the walk",
      outcome.run, c.packages_seen, walk.paged.pages, c.inserted, c.updated, c.unchanged, c.removed,
      c.removed_by_lookup, c.removed_by_second_walk, c.removals_deferred, c.status_changes, c.lookups,
      c.recovered_by_lookup);
}

void SyncPass::checkpoint() {
  if (settings_.heartbeat) settings_.heartbeat();
  if (settings_.cancel != nullptr && settings_.cancel->cancelled()) throw util::Cancelled("stop requested");
}

void SyncPass::record_abort(PassOutcome& outcome, const std::exception& e) {
  outcome.result = PassResult::kAborted;
  outcome.error = "stopped by a signal before it finished: " + util::redact(e.what(), settings_.secrets);
  spdlog::warn("pass {} aborted, nothing applied", outcome.run);
  try {
    store_.abort_run(outcome.run, outcome.error);
  } catch (const std::exception& record_error) {
    spdlog::error("pass {}: could not record the abort: {}", outcome.run,
                  util::redact(record_error.what(), settings_.secrets));
  }
}

// A stop request interrupts wherever the pass is: between pages (Cancelled), or inside a query
// that the store cancelled (then the database reports "canceling statement", a failure that
// the stop caused).
void SyncPass::stopped_or_failed(PassOutcome& outcome, const std::exception& e, FailureKind kind) {
  if (settings_.cancel != nullptr && settings_.cancel->cancelled()) {
    record_abort(outcome, e);
  } else {
    record_failure(outcome, e, kind);
  }
}

void SyncPass::record_failure(PassOutcome& outcome, const std::exception& e, FailureKind kind) {
  outcome.result = PassResult::kFailed;
  outcome.error = util::redact(e.what(), settings_.secrets);
  outcome.error_kind = kind;
  util::LogFields fields;
  fields.add("error_kind", to_string(kind));
  spdlog::error("pass {} failed, nothing applied: {}", outcome.run, outcome.error);
  try {
    store_.fail_run(outcome.run, outcome.error);
  } catch (const std::exception& record_error) {
    spdlog::error("pass {}: could not record the failure: {}", outcome.run,
                  util::redact(record_error.what(), settings_.secrets));
  }
}

// Says how a long walk is going: a log line and the run row's packages_seen, every few
// seconds (the row in a short transaction of its own, so `status` shows a running pass).
SyncPass::Progress::Progress(RunId run, PassStaging& staging) : run_(run), store_(staging) {}

void SyncPass::Progress::page(const Page& page, std::chrono::steady_clock::duration staging) {
  ++pages_;
  packages_ += static_cast<std::int64_t>(page.packages.size());
  requests_ += page.request_time;
  parsing_ += page.parse_time;
  staging_ += staging;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < kEvery) return;
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  spdlog::info("pass {}: {} pages, {} packages so far ({:.0f} packages/s)", run_, pages_, packages_,
               static_cast<double>(packages_) / seconds);
  store_.record_progress(packages_);
}

// Where a walk's time went: waiting for pages (the API, or parsing, was slower than staging),
// or staging them (building COPY lines, and waiting when PostgreSQL fell behind). Requests and
// parsing ran on the pager's workers, overlapped with both.
std::string SyncPass::Progress::breakdown(std::chrono::steady_clock::time_point walked) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto walk = walked - started_;
  return fmt::format("walk {} ms: waited {} ms for pages, staged them in {} ms; on the workers, requests {} ms and "
                     "parsing {} ms",
                     duration_cast<milliseconds>(walk).count(), duration_cast<milliseconds>(walk - staging_).count(),
                     duration_cast<milliseconds>(staging_).count(), duration_cast<milliseconds>(requests_).count(),
                     duration_cast<milliseconds>(parsing_).count());
}

}  // namespace esim
