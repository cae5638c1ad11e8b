#include "sync/sync_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/pager.h"
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

PassOutcome SyncPass::run() {
  PassOutcome outcome;
  const TimePoint started_at = clock_.now();
  try {
    // 1. Leave a trace first: a run that dies midway is still visible as 'running'.
    outcome.run = store_.start_run(started_at, settings_.interval);
  } catch (const std::exception& e) {
    outcome.error = util::redact(std::string("cannot record the run: ") + e.what(), settings_.secrets);
    spdlog::error("sync pass failed: {}", outcome.error);
    return outcome;
  }

  try {
    // 2. Stream every page into staging as it arrives; memory holds about one page.
    std::unique_ptr<PassWriter> writer = store_.open_pass(outcome.run);
    Pager pager(source_, settings_.page_size);
    PagerResult paged = pager.run([&](const Page& page) {
      warn_about_unknown_statuses(page);
      writer->stage(page.packages);
    });

    // 3. Only a complete, consistent listing may say that a package is gone.
    outcome.removals_applied = paged.complete;
    if (!paged.complete) {
      outcome.note = "removals skipped: " + paged.incomplete_reason;
      spdlog::warn("{}", outcome.note);
    }

    // 4. Diff and apply, all in one transaction.
    outcome.counts = writer->commit(started_at, outcome.removals_applied, outcome.note);
    outcome.succeeded = true;
    const PassCounts& c = outcome.counts;
    spdlog::info(
        "pass {} succeeded: {} packages in {} pages; {} inserted, {} updated, {} unchanged, "
        "{} removed, {} status changes",
        outcome.run, c.packages_seen, paged.pages, c.inserted, c.updated, c.unchanged, c.removed,
        c.status_changes);
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
  return outcome;
}

}  // namespace esim
