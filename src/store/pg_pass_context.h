#pragma once
// What both phases of a pass in PostgreSQL (PgPassStaging, PgPassDiff) work with: the session,
// the run, and how the apply checks its lock and resolves a commit lost in flight.
#include <functional>
#include <optional>
#include <string_view>
#include <string>

#include <pqxx/pqxx>

#include "store/store.h"
#include "util/copy_text.h"

namespace esim {

struct PgPassContext {
  pqxx::connection& connection;
  RunId run;
  // The pass took the writer lock, so its apply checks that it still holds it.
  bool must_hold_lock;
  // The run's status as another session reads it ("" when it cannot), asked when the
  // connection was lost at the apply's COMMIT.
  std::function<std::string(RunId)> status_after_loss;
  // sync.volatile_fields as a PostgreSQL text[] literal (history_upkeep.h), for the apply.
  std::string volatile_fields = "{}";
  // What the pass has sent PostgreSQL so far, as TCP counted it (none over a Unix socket).
  std::function<std::optional<std::int64_t>()> bytes_sent = [] { return std::optional<std::int64_t>(); };
};

// What staging sent, for the debug log's breakdown.
struct StagingTraffic {
  std::int64_t chunks = 0, chunks_known = 0;  // chunks cut; those sent as a digest alone
  std::int64_t ids_sent = 0;                  // members of the other chunks
  std::int64_t whole = 0;                     // packages sent whole (new, or differing)
};

// Where a first load's package is in the chunk index: its chunk's first id and its place in it.
struct ChunkPlace {
  std::string_view anchor;
  std::int64_t position;
};

// One package as a line of esim_staging (in its column order): the walk's sightings and the
// lookups' are staged alike. The first form takes the fingerprint already computed.
void staging_line(util::CopyLine& line, std::int64_t seq, const Package& package, const std::string& fingerprint,
                  const ChunkPlace* place = nullptr);
void staging_line(util::CopyLine& line, std::int64_t seq, const Package& package);

}  // namespace esim
