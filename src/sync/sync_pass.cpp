#include "sync/sync_pass.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "util/redact.h"

namespace esim {

SyncPass::SyncPass(PageSource& source, Store& store, const util::Clock& clock, SyncSettings settings)
    : source_(source), store_(store), clock_(clock), settings_(std::move(settings)) {}

void SyncPass::warn_about_unknown_statuses(const Page& page) {
  for (const Package& p : page.packages) {
    if (is_documented_status(p.status)) continue;
    if (std::find(warned_statuses_.begin(), warned_statuses_.end(), p.status) != warned_statuses_.end()) continue;
    warned_statuses_.push_back(p.status);
    spdlog::warn("package {} has status \"{}\", which Betatel does not document; stored as sent",
                 p.id, p.status);
  }
}

std::string SyncPass::inconsistency(const PagerResult& paged, const StagingSummary& staged) {
  if (!paged.complete) return paged.incomplete_reason;
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
  if (settings_.allow_mass_removal || staged.removal_candidates == 0) return "";
  const double share = static_cast<double>(staged.removal_candidates) / static_cast<double>(staged.live_packages);
  if (share <= settings_.max_removed_fraction) return "";
  return fmt::format(
      "removal guard: {} of {} live packages ({:.1f}%) are no longer listed, above sync.max_removed_fraction "
      "({:.1f}%); no removals applied. If the listing really shrank, run `esim-sync once --allow-mass-removal`",
      staged.removal_candidates, staged.live_packages, 100.0 * share, 100.0 * settings_.max_removed_fraction);
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
    // 4. Stream every page into staging as it arrives; memory holds a few pages. If the
    //    listing moved under the pager, walk it again, a bounded number of times.
    std::unique_ptr<PassWriter> writer;
    PagerResult paged;
    StagingSummary staged;
    std::string inconsistent;
    for (outcome.listing_attempts = 1;; ++outcome.listing_attempts) {
      writer.reset();
      writer = store_.open_pass(outcome.run);
      paged = Pager(source_, settings_.page_size, settings_.concurrency).run([&](const Page& page) {
        beat();
        warn_about_unknown_statuses(page);
        for (const auto& warning : page.warnings) spdlog::warn("{}", warning);
        writer->stage(page.packages);
      });
      staged = writer->summary();
      inconsistent = inconsistency(paged, staged);
      if (inconsistent.empty() || outcome.listing_attempts > settings_.max_repaging) break;
      spdlog::warn("pass {}: the listing moved while paging ({}); paging again", outcome.run, inconsistent);
    }

    // 5. Only a complete, consistent listing may say that a package is gone, and only a
    //    plausible number of them.
    if (!inconsistent.empty()) {
      outcome.warning = "removals skipped: the listing kept moving while paging (" + inconsistent + ") after " +
                        std::to_string(outcome.listing_attempts) + " attempts";
      spdlog::warn("pass {}: {}", outcome.run, outcome.warning);
    } else if (std::string guard = mass_removal_warning(staged); !guard.empty()) {
      outcome.warning = guard;
      spdlog::error("pass {}: {}", outcome.run, outcome.warning);
    }
    outcome.removals_applied = outcome.warning.empty();

    // 6. Diff and apply, all in one transaction.
    beat();
    outcome.counts =
        writer->commit({started_at, outcome.removals_applied, outcome.listing_attempts, outcome.warning});
    outcome.succeeded = true;
    const PassCounts& c = outcome.counts;
    spdlog::info(
        "pass {} succeeded: {} packages in {} pages; {} inserted, {} updated, {} unchanged, "
        "{} removed, {} status changes",
        outcome.run, c.packages_seen, paged.pages, c.inserted, c.updated, c.unchanged, c.removed,
        c.status_changes);
  } catch (const util::Cancelled& e) {
    outcome.aborted = true;
    outcome.error = std::string("stopped by a signal before it finished: ") + e.what();
    spdlog::warn("pass {} aborted, nothing applied", outcome.run);
    try {
      store_.abort_run(outcome.run, outcome.error);
    } catch (const std::exception& record_error) {
      spdlog::error("pass {}: could not record the abort: {}", outcome.run,
                    util::redact(record_error.what(), settings_.secrets));
    }
  } catch (const std::exception& e) {
    outcome.error = util::redact(e.what(), settings_.secrets);
    spdlog::error("pass {} failed, nothing applied: {}", outcome.run, outcome.error);
    try {
      store_.fail_run(outcome.run, outcome.error);
    } catch (const std::exception& record_error) {
      spdlog::error("pass {}: could not record the failure: {}", outcome.run,
                    util::redact(record_error.what(), settings_.secrets));
    }
  }
  release_lock();
  return outcome;
}

}  // namespace esim
