#pragma once
// Phase 2 of a pass in PostgreSQL: the staged listing joined once with the mirror (kDiff), so
// that every later question (the candidates, the controls, the apply) reads the few rows that
// differ instead of a million. Its apply writes the pass in one transaction
// (pg_pass_apply.cpp). See ARCHITECTURE.md, steps 3 to 6.
#include <random>
#include <string>
#include <vector>

#include "store/pg_pass_context.h"

namespace util {
class StepTimer;
}

namespace esim {

// What the staging phase hands over: how many rows it staged, and what staging cost.
struct StagedListing {
  std::int64_t rows = 0;  // duplicates included
  long long copy_ms = 0;
  long long copy_batches = 0;
  StagingTraffic traffic;
  bool all_whole = false;  // a first load: every package staged whole, no ids sent apart
};

class PgPassDiff final : public PassDiff {
 public:
  // Takes the diff (over an empty mirror there is none: the apply loads staging as it is).
  PgPassDiff(PgPassContext context, StagedListing staged);

  const StagingSummary& summary() const override { return summary_; }
  std::vector<RemovalCandidate> removal_candidates(std::size_t limit) override;
  std::vector<std::string> seen_packages(const std::string& status, std::size_t n) override;
  const StagingSummary& add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) override;

 private:
  PassCounts commit(const ApplyOptions& options) override;
  void take_diff();
  StagingSummary diff_once(pqxx::work& tx);
  void resolve_duplicates(pqxx::work& tx);
  StagingSummary diff_summary(pqxx::work& tx) const;
  void stage_sightings(const std::vector<Package>& listed);
  void stage_gone(const std::vector<std::string>& ids);
  // The apply's steps (pg_pass_apply.cpp).
  PassCounts write_listed(pqxx::work& tx, const std::string& at, util::StepTimer& timer);
  void apply_removals(pqxx::work& tx, const std::string& at, const ApplyOptions& options, PassCounts& counts,
                      util::StepTimer& timer);
  void check_transitions(pqxx::work& tx, const std::string& at);
  void check_writer_lock(pqxx::work& tx);
  void finish_run(pqxx::work& tx, const ApplyOptions& options, const PassCounts& counts);
  std::int64_t load_first(pqxx::work& tx, const std::string& at, util::StepTimer& timer);
  static void drop_indexes(pqxx::work& tx, std::vector<std::string>& rebuild, std::vector<std::string>& member_key);
  static void rebuild_all(pqxx::work& tx, std::vector<std::string>& definitions);
  void remember_candidates(pqxx::work& tx, const std::string& at, std::int64_t still_missing);
  void keep_chunk_index(pqxx::work& tx);
  void commit_or_resolve(pqxx::work& tx);

  PgPassContext context_;
  StagedListing staged_;
  std::int64_t walk_rows_ = 0;  // staged by the walk; the lookups' sightings come after
  // Known when the diff is taken, and true for the whole phase (the writer lock is held).
  bool first_load_ = false;     // the mirror was empty
  bool empty_history_ = false;  // and so was the history
  bool duplicates_ = false;  // the walk listed an id twice (resolve_duplicates ran)
  StagingSummary summary_;
  long long diff_ms_ = 0;  // for the debug log
  std::optional<std::int64_t> bytes_sent_;  // what the pass sent PostgreSQL, as recorded on the run
  util::CopyLine line_;
  std::minstd_rand random_{std::random_device{}()};  // where the controls are picked from
  std::vector<std::string> candidate_ids_;            // of removal_candidates(): starts for the controls
};

}  // namespace esim
