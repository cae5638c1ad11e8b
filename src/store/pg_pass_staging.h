#pragma once
// Phase 1 of a pass in PostgreSQL: the walk cut into chunks (store/listing_chunks.h) and sent
// by the copy pipe's thread while the pager walks, in batches of a few megabytes, each its own
// short transaction (no transaction waits on the API). A chunk the mirror holds goes as its
// digest; of the others the ids go, and the whole package only where the mirror's
// fingerprint differs (asked per batch). The pipe is this phase's alone: diff() drains it
// before anything else uses the connection. See ARCHITECTURE.md, step 2.
#include <deque>
#include <string>
#include <vector>

#include "store/copy_pipe.h"
#include "store/listing_chunks.h"
#include "store/pg_pass_context.h"

namespace esim {

class PgPassStaging final : public PassStaging {
 public:
  explicit PgPassStaging(PgPassContext context);

  void stage(const std::vector<Package>& packages) override;
  void record_progress(std::int64_t packages_seen) override;

 private:
  // A package of a chunk the mirror may lack: its place, its fingerprint and its whole line.
  struct Member {
    std::int64_t seq;
    std::string fingerprint;  // as PostgreSQL prints a uuid
    std::string line;         // its esim_staging line
  };
  struct Batch {
    std::vector<std::string> chunk_lines;   // esim_seen_chunks
    std::vector<std::string> member_lines;  // esim_member_batch: the ids alone, in order
    std::vector<Member> members;            // their whole lines, sent where they differ
    std::int64_t first_new = -1, last_new = -1;  // the first seqs of its chunks the mirror lacks
    std::size_t rows = 0, bytes = 0;
  };

  // A package of the chunk being cut. Its whole line is built only if the chunk turns out to
  // be one the mirror lacks (in the steady state, almost never).
  struct Open {
    std::int64_t seq;
    Hash128 fingerprint;
    const Package* package;  // in the page being staged, or in carried_
  };

  std::unique_ptr<PassDiff> finish() override;
  void end_chunk();
  void add_chunk_line(const ChunkDigests& digests, bool known);
  void add_members();
  void flush();
  void send(const Batch& batch);
  std::vector<const std::string*> differing(pqxx::work& tx, const Batch& batch);

  PgPassContext context_;
  bool mirror_empty_ = false;  // a first load: every package is sent whole, nothing asked
  KnownChunks known_;
  ChunkCutter cutter_;
  std::vector<Open> chunk_;       // the chunk being cut
  std::deque<Package> carried_;   // its packages from earlier pages (a deque: they never move)
  std::int64_t next_seq_ = 0;  // rows staged so far, duplicates included
  util::CopyLine line_;
  Batch batch_;  // being built
  StagingTraffic traffic_;  // whole: counted by the pipe's thread, read after drain()
  CopyPipe pipe_;  // last: its thread may use everything above
};

}  // namespace esim
