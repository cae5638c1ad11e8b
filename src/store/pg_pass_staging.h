#pragma once
// Phase 1 of a pass in PostgreSQL: the walk's packages COPYed into a session-private staging
// table by the copy pipe's thread while the pager walks, in batches of a few megabytes, each
// its own short transaction (no transaction waits on the API). The pipe is this phase's alone:
// diff() drains it before anything else uses the connection. See ARCHITECTURE.md, step 2.
#include <string>
#include <vector>

#include "store/copy_pipe.h"
#include "store/pg_pass_context.h"

namespace esim {

class PgPassStaging final : public PassStaging {
 public:
  explicit PgPassStaging(PgPassContext context);

  void stage(const std::vector<Package>& packages) override;
  void record_progress(std::int64_t packages_seen) override;

 private:
  std::unique_ptr<PassDiff> finish() override;
  void flush();
  void send(const std::vector<std::string>& lines);

  PgPassContext context_;
  std::int64_t next_seq_ = 0;  // rows staged so far, duplicates included
  util::CopyLine line_;
  std::vector<std::string> lines_;  // the batch being built
  std::size_t line_bytes_ = 0;
  CopyPipe pipe_;  // last: its thread may use everything above
};

}  // namespace esim
