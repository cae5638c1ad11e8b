#include "store/pg_pass_staging.h"

#include <functional>
#include <memory>

#include <spdlog/spdlog.h>

#include "store/apply_sql.h"
#include "store/chunk_sql.h"
#include "store/fingerprint.h"
#include "store/pg_pass_diff.h"

namespace esim {

namespace {

// Rows in one batch (chunks, ids and whole packages together), and bytes: memory stays at a few
// megabytes whatever the listing's size and however large its packages are.
constexpr std::size_t kRowsPerBatch = 5000;
constexpr std::size_t kBytesPerBatch = 8u << 20;

// The session's staging tables, made (or emptied) for a pass.
void make_fresh_staging(pqxx::connection& connection) {
  pqxx::work tx(connection, "open_pass");
  tx.exec("SET LOCAL client_min_messages = warning");
  tx.exec(apply_sql::kCreateStaging);
  tx.exec(chunk_sql::kCreateChunkStaging);
  tx.commit();
}

// After a write to the mirror that no pass made, the index starts afresh (chunk_sql.h).
void rebuild_index_if_outdated(pqxx::connection& connection) {
  pqxx::work tx(connection, "chunk_index");
  if (tx.exec1(chunk_sql::kIndexOutdated)[0].as<bool>()) {
    spdlog::info("the chunk index is built afresh (the mirror was written outside a pass, or just upgraded): "
                 "this pass sends every package's id once");
    tx.exec(chunk_sql::kRebuildIndex);
  }
  tx.commit();
}

// The digests the mirror holds, read once per walk, and whether it holds anything at all.
KnownChunks read_known_chunks(pqxx::connection& connection, bool& mirror_empty) {
  pqxx::read_transaction tx(connection, "known_chunks");
  mirror_empty = tx.exec1(chunk_sql::kMirrorIsEmpty)[0].as<bool>();
  std::vector<Hash128> digests;
  const pqxx::result rows = tx.exec(chunk_sql::kStoredDigests);
  digests.reserve(rows.size());
  for (const auto& row : rows) {
    Hash128 digest;
    if (parse_uuid(row[0].c_str(), digest)) digests.push_back(digest);
  }
  tx.commit();
  return KnownChunks(std::move(digests));
}

}  // namespace

void staging_line(util::CopyLine& line, std::int64_t seq, const Package& p, const std::string& fingerprint,
                  const ChunkPlace* place) {
  line.integer(seq).text(p.id).text(p.sim).integer(p.package_template).text(p.status);
  line.integer(p.created_date).integer(p.activated_date).integer(p.expiry_date);
  // Without volatile fields in the text, the stable fingerprint is the whole text's: hashed once.
  line.text(p.raw_json).text(fingerprint);
  line.text(p.volatile_spans.empty() ? fingerprint : stable_fingerprint_uuid(p.raw_json, p.volatile_spans));
  line.integer(p.data_usage_remaining).integer(p.voice_usage_remaining).integer(p.sms_usage_remaining);
  if (place) {
    line.text(place->anchor).integer(place->position);
  } else {
    line.null().null();
  }
}

void staging_line(util::CopyLine& line, std::int64_t seq, const Package& p) {
  staging_line(line, seq, p, fingerprint_uuid(p.raw_json));
}

PgPassStaging::PgPassStaging(PgPassContext context)
    : context_(std::move(context)) {
  // Before the first batch: until then the pipe only waits.
  rebuild_index_if_outdated(context_.connection);
  known_ = read_known_chunks(context_.connection, mirror_empty_);
  make_fresh_staging(context_.connection);
}

// Each package joins the chunk being cut; where the chunk ends, it goes into the batch. The
// page goes when this returns: the packages of a chunk still open are kept until it ends.
void PgPassStaging::stage(const std::vector<Package>& packages) {
  for (const Package& p : packages) {
    const Hash128 fingerprint = esim::fingerprint(p.raw_json);
    chunk_.push_back({next_seq_++, fingerprint, &p});
    if (cutter_.add(p.id, fingerprint)) end_chunk();
  }
  // std::less: pointers into different arrays (the page, carried_) compare only through it.
  const std::less<const Package*> before;
  for (Open& open : chunk_) {
    if (!before(open.package, packages.data()) && before(open.package, packages.data() + packages.size())) {
      open.package = &carried_.emplace_back(*open.package);
    }
  }
}

// A chunk the mirror holds is its digest alone; of another, every member's id goes too, and
// its whole line waits in the batch for the mirror's answer.
void PgPassStaging::end_chunk() {
  if (chunk_.empty()) return;
  const ChunkDigests digests = cutter_.take_digests();
  const bool known = known_.contains(digests.content);
  add_chunk_line(digests, known);             // 1. the chunk, as the mirror will know it
  if (!known) add_members();                  // 2. its ids, and its packages' whole lines
  chunk_.clear();                             // 3. the next chunk starts; the batch may go
  carried_.clear();
  if (batch_.rows >= kRowsPerBatch || batch_.bytes >= kBytesPerBatch) flush();
}

// Its first seq, digest and size; for one the mirror lacks the digest of its ids alone (the
// same members need no new places); a first load's also its anchor.
void PgPassStaging::add_chunk_line(const ChunkDigests& digests, bool known) {
  line_.integer(chunk_.front().seq).text(as_hex(digests.content)).integer(static_cast<std::int64_t>(chunk_.size()));
  line_.text(known ? "t" : "f");
  if (known) {
    line_.null();
  } else {
    line_.text(as_hex(digests.members));
  }
  if (mirror_empty_) {
    line_.text(chunk_.front().package->id);
  } else {
    line_.null();
  }
  batch_.chunk_lines.push_back(line_.take());
  batch_.bytes += batch_.chunk_lines.back().size();
  ++batch_.rows;
  ++traffic_.chunks;
  if (known) ++traffic_.chunks_known;
}

// A first load stages every package whole at its place, so its ids go no other way.
void PgPassStaging::add_members() {
  const std::int64_t first_seq = chunk_.front().seq;
  if (batch_.first_new < 0) batch_.first_new = first_seq;
  batch_.last_new = first_seq;
  const std::string_view anchor = chunk_.front().package->id;
  for (const Open& open : chunk_) {
    const Package& p = *open.package;
    const ChunkPlace place{anchor, open.seq - first_seq};
    if (!mirror_empty_) batch_.member_lines.push_back(line_.text(p.id).take());
    Member member{open.seq, as_uuid(open.fingerprint), {}};
    staging_line(line_, member.seq, p, member.fingerprint, mirror_empty_ ? &place : nullptr);
    member.line = line_.take();
    batch_.bytes += p.id.size() + member.line.size();
    batch_.members.push_back(std::move(member));
  }
  batch_.rows += 2 * chunk_.size();
  if (!mirror_empty_) traffic_.ids_sent += static_cast<std::int64_t>(chunk_.size());
}

// The batch goes to the pipe, which sends it while the next one is built.
void PgPassStaging::flush() {
  if (batch_.rows == 0) return;
  pipe_.push_batch([this, batch = std::make_shared<Batch>(std::move(batch_))] { send(*batch); });
  batch_ = {};
}

// On the pipe's thread, one short transaction: the chunks; the ids of those the mirror lacks;
// then, asked which of those the mirror has with another fingerprint (or not at all), those
// packages whole.
void PgPassStaging::send(const Batch& batch) {
  static const std::vector<std::string> kChunkColumns{"first_seq", "digest", "size", "known", "members_digest",
                                                      "anchor"};
  static const std::vector<std::string> kMemberColumns{"id"};
  pqxx::work tx(context_.connection, "stage");
  copy_lines(tx, "esim_seen_chunks", batch.chunk_lines, kChunkColumns);
  if (mirror_empty_) {
    const std::vector<const std::string*> whole = differing(tx, batch);
    copy_lines(tx, "esim_staging", whole);
    traffic_.whole += static_cast<std::int64_t>(whole.size());
  } else if (!batch.member_lines.empty()) {
    copy_lines(tx, "esim_member_batch", batch.member_lines, kMemberColumns);
    const std::vector<const std::string*> whole = differing(tx, batch);
    tx.exec(chunk_sql::kHashTheBatch);
    tx.exec_params(chunk_sql::kKeepMemberBatch, batch.first_new, batch.last_new);
    tx.exec(chunk_sql::kEmptyMemberBatch);
    copy_lines(tx, "esim_staging", whole);
    traffic_.whole += static_cast<std::int64_t>(whole.size());
  }
  tx.commit();
}

// The members whose fingerprint the mirror does not have (live): the answer names each by its
// number in the batch (from 1), in order.
std::vector<const std::string*> PgPassStaging::differing(pqxx::work& tx, const Batch& batch) {
  std::vector<const std::string*> whole;
  whole.reserve(mirror_empty_ ? batch.members.size() : batch.members.size() / 8);
  if (mirror_empty_) {
    for (const Member& m : batch.members) whole.push_back(&m.line);
    return whole;
  }
  const pqxx::result mirror = tx.exec(chunk_sql::kMirrorFingerprints);
  auto row = mirror.begin();
  for (std::size_t i = 0; i < batch.members.size(); ++i) {
    const auto n = static_cast<std::int64_t>(i + 1);
    while (row != mirror.end() && row[0].as<std::int64_t>() < n) ++row;
    const bool held = row != mirror.end() && row[0].as<std::int64_t>() == n &&
                      batch.members[i].fingerprint == row[1].c_str();
    if (!held) whole.push_back(&batch.members[i].line);
  }
  return whole;
}

// In a short transaction of its own, between two batches: `status` shows how far a running pass got.
void PgPassStaging::record_progress(std::int64_t packages_seen) {
  pipe_.run_between([this, packages_seen] {
    pqxx::work tx(context_.connection, "record_progress");
    tx.exec_params("UPDATE esim.sync_runs SET packages_seen = $2 WHERE id = $1 AND status = 'running'", context_.run,
                   packages_seen);
    tx.commit();
  });
}

// The last chunk ends with the walk; the last batch sent and the pipe idle: from here on the
// connection is the diff's.
std::unique_ptr<PassDiff> PgPassStaging::finish() {
  if (cutter_.size() > 0) end_chunk();
  flush();
  pipe_.drain();
  return std::make_unique<PgPassDiff>(
      context_, StagedListing{next_seq_, pipe_.busy_ms(), pipe_.batches(), traffic_, mirror_empty_});
}

}  // namespace esim
