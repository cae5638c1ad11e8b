#include "sync/sync_pass.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "sync/removal_proof.h"
#include "util/redact.h"

namespace esim {

SyncPass::SyncPass(PageSource& source, Store& store, const util::Clock& clock, SyncSettings settings)
    : source_(source), store_(store), clock_(clock), settings_(std::move(settings)) {}

void SyncPass::warn_about_unknown_statuses(const std::vector<Package>& packages) {
  for (const Package& p : packages) {
    if (is_documented_status(p.status)) continue;
    if (std::find(warned_statuses_.begin(), warned_statuses_.end(), p.status) != warned_statuses_.end()) continue;
    warned_statuses_.push_back(p.status);
    spdlog::warn("package {} has status \"{}\", which Betatel does not document; stored as sent",
                 p.id, p.status);
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

std::string SyncPass::mass_removal_warning(const StagingSummary& staged) const {
  const std::int64_t removals = staged.provable_removals();
  if (settings_.allow_mass_removal || removals == 0) return "";
  const double share = static_cast<double>(removals) / static_cast<double>(staged.live_packages);
  if (share <= settings_.max_removed_fraction) return "";
  return fmt::format(
      "removal guard: {} of {} live packages ({:.1f}%) are no longer listed, above sync.max_removed_fraction "
      "({:.1f}%); no removals applied. If the listing really shrank, run `esim-sync once --allow-mass-removal`",
      removals, staged.live_packages, 100.0 * share, 100.0 * settings_.max_removed_fraction);
}

std::string SyncPass::deferral_warning(const StagingSummary& staged, const ProofResult& proof) {
  if (staged.deferred() == 0) return "";
  std::vector<std::string> why;
  if (proof.without_sim > 0) why.push_back(std::to_string(proof.without_sim) + " without a SIM to look up");
  if (!proof.filter_ignored.empty()) why.push_back(proof.filter_ignored);
  if (!proof.lookup_error.empty()) why.push_back("a lookup failed: " + proof.lookup_error);
  const std::int64_t over = staged.deferred() - proof.without_sim - proof.not_looked_up;
  if (over > 0) why.push_back(std::to_string(over) + " beyond sync.max_removal_lookups");
  return fmt::format("{} removal(s) deferred: the walk lacked them and no lookup proved them gone ({}); "
                     "they are removed if the next walk lacks them too",
                     staged.deferred(), fmt::join(why, "; "));
}

void SyncPass::release_lock() {
  try {
    store_.unlock_writer();
  } catch (const std::exception&) {
    // A broken connection released the lock with the session.
  }
}

PassOutcome SyncPass::run() {
  PassOutcome outcome;
  const TimePoint started_at = clock_.now();
  auto beat = [&] {
    if (settings_.heartbeat) settings_.heartbeat();
    if (settings_.cancel != nullptr && settings_.cancel->cancelled()) throw util::Cancelled("stop requested");
  };
  try {
    // 1. One writer per database: another esim-sync (failover, or started twice) may hold it.
    if (!store_.try_lock_writer()) {
      outcome.locked_out = true;
      spdlog::info("another esim-sync is syncing this database (it holds the writer lock); not syncing now");
      return outcome;
    }
    // 2. Holding the lock, any run still 'running' was left by a process that died.
    if (std::int64_t dead = store_.abort_dead_runs(); dead > 0) {
      spdlog::warn("marked {} run(s) left 'running' by a stopped process as aborted", dead);
    }
    // 3. Leave a trace first: a run that dies midway is still visible as 'running'.
    outcome.run = store_.start_run(started_at, settings_.interval);
  } catch (const std::exception& e) {
    outcome.error = util::redact(std::string("cannot start the run: ") + e.what(), settings_.secrets);
    spdlog::error("sync pass failed: {}", outcome.error);
    release_lock();
    return outcome;
  }

  try {
    // 4. Stream every page into staging as it arrives; memory holds a few pages. A walk that
    //    saw the listing move and left more candidates than lookups may settle walks again.
    std::unique_ptr<PassWriter> writer;
    PagerResult paged;
    StagingSummary staged;
    std::string moved;
    std::set<std::string> odd_values_told;  // each odd value's warning once a pass, however often walked
    for (outcome.listing_attempts = 1;; ++outcome.listing_attempts) {
      writer.reset();
      writer = store_.open_pass(outcome.run);
      paged = Pager(source_, settings_.page_size, settings_.concurrency).run([&](const Page& page) {
        beat();
        warn_about_unknown_statuses(page.packages);
        for (const auto& warning : page.warnings) {
          if (odd_values_told.insert(warning).second) spdlog::warn("{}", warning);
        }
        writer->stage(page.packages);
      });
      staged = writer->summary();
      moved = movement(paged, staged);
      if (moved.empty()) break;
      spdlog::info("pass {}: the listing moved while paging ({})", outcome.run, moved);
      if (staged.removal_candidates <= settings_.max_removal_lookups ||
          outcome.listing_attempts > settings_.max_repaging) {
        break;
      }
      spdlog::warn("pass {}: {} removal candidates, more than sync.max_removal_lookups; paging again", outcome.run,
                   staged.removal_candidates);
    }

    outcome.listing_moved = !moved.empty();

    // 5. A package the walk lacked is gone only on proof: a lookup of its SIM that does not
    //    list it. One the lookup finds was skipped by the walk and is applied as seen.
    ProofResult proof;
    if (staged.removal_candidates > 0) {
      beat();
      proof = RemovalProof(source_, settings_.page_size, settings_.concurrency, beat)
                  .settle(writer->removal_candidates(static_cast<std::size_t>(settings_.max_removal_lookups)));
      if (!proof.filter_ignored.empty()) spdlog::warn("pass {}: {}; falling back to two walks", outcome.run, proof.filter_ignored);
      if (!proof.lookup_error.empty()) spdlog::warn("pass {}: a removal lookup failed: {}", outcome.run, proof.lookup_error);
      warn_about_unknown_statuses(proof.listed);
      writer->stage(proof.listed);
      writer->stage_gone(proof.gone);
      staged = writer->summary();
    }

    // 6. Removals proven either way apply now, unless there are implausibly many of them.
    std::vector<std::string> warnings;
    if (std::string deferred = deferral_warning(staged, proof); !deferred.empty()) {
      spdlog::warn("pass {}: {}", outcome.run, deferred);
      warnings.push_back(std::move(deferred));
    }
    outcome.removals_applied = true;
    if (std::string guard = mass_removal_warning(staged); !guard.empty()) {
      spdlog::error("pass {}: {}", outcome.run, guard);
      warnings.push_back(std::move(guard));
      outcome.removals_applied = false;
    }
    outcome.warning = fmt::format("{}", fmt::join(warnings, "; "));

    // 7. Diff and apply, all in one transaction.
    beat();
    ApplyOptions apply{started_at, outcome.removals_applied, outcome.listing_attempts, outcome.warning};
    apply.heartbeat = [&] {
      if (settings_.heartbeat) settings_.heartbeat();
    };
    apply.lookups = proof.lookups;
    apply.recovered_by_lookup = proof.recovered;
    outcome.counts = writer->commit(apply);
    outcome.succeeded = true;
    const PassCounts& c = outcome.counts;
    spdlog::info(
        "pass {} succeeded: {} packages in {} pages; {} inserted, {} updated, {} unchanged, "
        "{} removed ({} by lookup, {} by a second walk, {} deferred), {} status changes; {} lookups "
        "found {} skipped by the walk",
        outcome.run, c.packages_seen, paged.pages, c.inserted, c.updated, c.unchanged, c.removed,
        c.removed_by_lookup, c.removed_by_second_walk, c.removals_deferred, c.status_changes, c.lookups,
        c.recovered_by_lookup);
  } catch (const std::exception& e) {
    // A stop request interrupts wherever the pass is: between pages (Cancelled), or inside a
    // query that the store cancelled (then the database reports "canceling statement").
    if (dynamic_cast<const util::Cancelled*>(&e) != nullptr ||
        (settings_.cancel != nullptr && settings_.cancel->cancelled())) {
      record_abort(outcome, e);
    } else {
      record_failure(outcome, e);
    }
  }
  release_lock();
  return outcome;
}

void SyncPass::record_abort(PassOutcome& outcome, const std::exception& e) {
  outcome.aborted = true;
  outcome.error = "stopped by a signal before it finished: " + util::redact(e.what(), settings_.secrets);
  spdlog::warn("pass {} aborted, nothing applied", outcome.run);
  try {
    store_.abort_run(outcome.run, outcome.error);
  } catch (const std::exception& record_error) {
    spdlog::error("pass {}: could not record the abort: {}", outcome.run,
                  util::redact(record_error.what(), settings_.secrets));
  }
}

void SyncPass::record_failure(PassOutcome& outcome, const std::exception& e) {
  outcome.error = util::redact(e.what(), settings_.secrets);
  spdlog::error("pass {} failed, nothing applied: {}", outcome.run, outcome.error);
  try {
    store_.fail_run(outcome.run, outcome.error);
  } catch (const std::exception& record_error) {
    spdlog::error("pass {}: could not record the failure: {}", outcome.run,
                  util::redact(record_error.what(), settings_.secrets));
  }
}

}  // namespace esim
