#include "store/pg_pass_diff.h"

#include "store/apply_sql.h"
#include "store/chunk_sql.h"
#include "store/copy_pipe.h"
#include "util/stopwatch.h"

namespace esim {

PgPassDiff::PgPassDiff(PgPassContext context, StagedListing staged)
    : context_(std::move(context)), staged_(staged), walk_rows_(staged.rows) {
  take_diff();
}

// The diff of the staged listing against the mirror, and what it implies. Over an empty mirror
// there is nothing to diff: every package is new, and the apply loads them straight from staging.
void PgPassDiff::take_diff() {
  const util::Stopwatch diffing;
  pqxx::work tx(context_.connection, "summary");
  pqxx::row empty = tx.exec1(apply_sql::kEmptyMirror);
  first_load_ = empty[0].as<bool>();
  empty_history_ = empty[1].as<bool>();
  StagingSummary s;
  s.rows = staged_.rows;
  if (first_load_ != staged_.all_whole) {  // the writer lock keeps the mirror as staging saw it
    throw std::runtime_error("the mirror was emptied or filled by another session during the walk; nothing applied");
  }
  if (first_load_) {
    // Duplicates, if any, are found when the load meets the primary key (see load_first).
    s.distinct_ids = s.rows;
  } else {
    if (const auto strays = tx.exec1(chunk_sql::kUnknownKnownChunks)[0].as<std::int64_t>(); strays != 0) {
      throw std::runtime_error(std::to_string(strays) +
                               " chunks the pass took for stored are not in esim.listing_chunks; nothing applied");
    }
    tx.exec(apply_sql::kAnalyzeStaging);
    tx.exec(chunk_sql::kAnalyzeChunkStaging);
    s = diff_once(tx);
    if (s.distinct_ids != s.rows) {  // the listing shifted while paging: keep each id's last sighting
      resolve_duplicates(tx);
      s = diff_once(tx);
    }
  }
  tx.commit();
  diff_ms_ += diffing.elapsed_ms();
  summary_ = s;
}

// The packages staged whole that differ from the mirror, and the live ones the walk lacks.
StagingSummary PgPassDiff::diff_once(pqxx::work& tx) {
  tx.exec(apply_sql::kClearDiff);
  tx.exec(apply_sql::kDiff);
  tx.exec(chunk_sql::kMarkSameMembers);
  tx.exec(chunk_sql::kFindUnlisted);
  tx.exec(chunk_sql::kCandidates);
  return diff_summary(tx);
}

// Each id listed twice keeps its later sighting; the chunks holding it are not stored.
void PgPassDiff::resolve_duplicates(pqxx::work& tx) {
  duplicates_ = true;
  tx.exec(chunk_sql::kCollectSightings);
  tx.exec_params(chunk_sql::kKeepLaterSightings, walk_rows_);
}

StagingSummary PgPassDiff::diff_summary(pqxx::work& tx) const {
  const auto live = tx.exec1(chunk_sql::kLivePackages)[0].as<std::int64_t>();
  pqxx::row r = tx.exec_params1(apply_sql::kDiffSummary, live);
  StagingSummary s;
  s.rows = staged_.rows;
  s.removal_candidates = r[0].as<std::int64_t>();
  s.live_packages = live;
  s.distinct_ids = r[1].as<std::int64_t>();
  s.proven_gone = r[2].as<std::int64_t>();
  s.missed_before = r[3].as<std::int64_t>();
  return s;
}

std::vector<RemovalCandidate> PgPassDiff::removal_candidates(std::size_t limit) {
  pqxx::work tx(context_.connection, "removal_candidates");
  std::vector<RemovalCandidate> out;
  for (const auto& row : tx.exec_params(apply_sql::kRemovalCandidates, static_cast<long long>(limit))) {
    RemovalCandidate c{row[0].as<std::string>(), std::nullopt, row[2].as<std::string>(), std::nullopt};
    if (!row[1].is_null()) c.sim = row[1].as<std::string>();
    if (!row[3].is_null()) c.seen_on_same_sim = row[3].as<std::string>();
    candidate_ids_.push_back(c.id);
    out.push_back(std::move(c));
  }
  tx.commit();
  return out;
}

std::vector<std::string> PgPassDiff::seen_packages(const std::string& status, std::size_t n) {
  std::optional<std::string> of_status;
  if (!status.empty()) of_status = status;
  pqxx::work tx(context_.connection, "seen_packages");
  std::vector<std::string> out;
  // After a candidate picked at random first; from the start when too few follow it.
  const std::string after = candidate_ids_.empty() ? "" : candidate_ids_[random_() % candidate_ids_.size()];
  for (const std::string& from : {after, std::string()}) {
    for (const auto& row : tx.exec_params(apply_sql::kSeenPackages, of_status, static_cast<long long>(n), from)) {
      out.push_back(row[0].as<std::string>());
    }
    if (out.size() >= n || from.empty()) break;
    out.clear();
  }
  if (out.empty()) {
    for (const auto& row : tx.exec_params(apply_sql::kSeenNewPackages, of_status, static_cast<long long>(n))) {
      out.push_back(row[0].as<std::string>());
    }
  }
  tx.commit();
  return out;
}

const StagingSummary& PgPassDiff::add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) {
  if (!listed.empty()) {  // the walk skipped packages: take the diff again
    stage_sightings(listed);
    stage_gone(gone);
    take_diff();
    return summary_;
  }
  // Only removals proven: the staged listing is as summarised, so patch the counts instead of
  // taking the diff again. Every gone id is a candidate, and no longer one that merely waits
  // on the two-walk rule.
  stage_gone(gone);
  pqxx::work tx(context_.connection, "proof_summary");
  summary_.proven_gone = static_cast<std::int64_t>(gone.size());
  summary_.missed_before -= tx.exec1(apply_sql::kGoneAndMissedBefore)[0].as<std::int64_t>();
  tx.commit();
  return summary_;
}

// The lookups' sightings, after the walk's (a later seq: a sighting wins over the walk's own).
// A few hundred rows at most: one COPY, no pipe.
void PgPassDiff::stage_sightings(const std::vector<Package>& listed) {
  std::vector<std::string> lines;
  lines.reserve(listed.size());
  for (const Package& p : listed) {
    staging_line(line_, staged_.rows++, p);
    lines.push_back(line_.take());
  }
  pqxx::work tx(context_.connection, "stage_sightings");
  copy_lines(tx, "esim_staging", lines);
  tx.commit();
}

void PgPassDiff::stage_gone(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> lines;
  lines.reserve(ids.size());
  for (const std::string& id : ids) lines.push_back(line_.text(id).take());
  pqxx::work tx(context_.connection, "stage_gone");
  copy_lines(tx, "esim_gone", lines);
  tx.commit();
}

}  // namespace esim
