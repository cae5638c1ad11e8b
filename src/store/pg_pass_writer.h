#pragma once
// One pass's packages on their way into PostgreSQL: staged by COPY while the pager walks (on
// the copy pipe's thread), diffed against the mirror in one set-wise statement, applied in one
// transaction. See ARCHITECTURE.md, "A pass in PostgreSQL".
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "store/copy_pipe.h"
#include "store/history_policy.h"
#include "store/store.h"
#include "util/copy_text.h"

namespace esim {

// Milliseconds per named step, for one debug line per apply.
class StepTimer {
 public:
  explicit StepTimer(std::function<void()> heartbeat) : heartbeat_(std::move(heartbeat)) {}
  void step(const char* name);
  const std::string& report() const { return report_; }

 private:
  std::function<void()> heartbeat_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::string report_;
};

class PgPassWriter final : public PassWriter {
 public:
  // The run's status as another session reads it ("" when it cannot), asked when the connection
  // was lost at the apply's COMMIT.
  using RunStatus = std::function<std::string(RunId)>;
  // must_hold_lock: the pass took the writer lock, so its apply checks that it still holds it.
  PgPassWriter(pqxx::connection& connection, RunId run, bool must_hold_lock, RunStatus status_after_loss = nullptr,
               HistoryPolicy history = {});

  void stage(const std::vector<Package>& packages) override;
  void record_progress(std::int64_t packages_seen) override;
  StagingSummary summary() override;
  std::vector<RemovalCandidate> removal_candidates(std::size_t limit) override;
  std::vector<std::string> seen_packages(const std::string& status, std::size_t n) override;
  StagingSummary add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) override;
  PassCounts commit(const ApplyOptions& options) override;

 private:
  void flush();
  void send(const std::vector<std::string>& lines);
  void stage_gone(const std::vector<std::string>& ids);
  StagingSummary diff_summary(pqxx::work& tx) const;
  std::int64_t load_first(pqxx::work& tx, const std::string& at, StepTimer& timer);
  void remember_candidates(pqxx::work& tx, const std::string& at, std::int64_t still_missing);
  void commit_or_resolve(pqxx::work& tx);

  pqxx::connection& connection_;
  RunId run_;
  bool must_hold_lock_;
  RunStatus status_after_loss_;
  std::string volatile_fields_;  // sync.volatile_fields as a PostgreSQL text[] literal
  std::int64_t next_seq_ = 0;  // rows staged so far, duplicates included
  util::CopyLine line_;
  std::vector<std::string> lines_;  // the batch being built
  std::size_t line_bytes_ = 0;
  std::optional<StagingSummary> summary_;  // of the rows staged so far; reset by stage()
  bool first_load_ = false;     // the mirror was empty at the summary
  bool empty_history_ = false;  // and so was the history
  long long diff_ms_ = 0;       // for the debug log
  std::minstd_rand random_{std::random_device{}()};  // where the controls are picked from
  std::vector<std::string> candidate_ids_;            // of removal_candidates(): starts for the controls
  CopyPipe pipe_;               // last: its thread may use everything above
};

}  // namespace esim
