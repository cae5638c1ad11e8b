#include "store/pg_pass_staging.h"

#include "store/apply_sql.h"
#include "store/fingerprint.h"
#include "store/pg_pass_diff.h"

namespace esim {

namespace {

// Rows in one COPY batch, and bytes: memory stays at a few megabytes whatever the listing's size
// and however large its packages are.
constexpr std::size_t kRowsPerCopy = 5000;
constexpr std::size_t kBytesPerCopy = 8u << 20;

// The session's staging tables, made (or emptied) for a pass.
void make_fresh_staging(pqxx::connection& connection) {
  pqxx::work tx(connection, "open_pass");
  tx.exec("SET LOCAL client_min_messages = warning");
  tx.exec(apply_sql::kCreateStaging);
  tx.commit();
}

}  // namespace

void staging_line(util::CopyLine& line, std::int64_t seq, const Package& p) {
  line.integer(seq).text(p.id).text(p.sim).integer(p.package_template).text(p.status);
  line.integer(p.created_date).integer(p.activated_date).integer(p.expiry_date);
  line.text(p.raw_json).text(fingerprint_uuid(p.raw_json));
}

PgPassStaging::PgPassStaging(PgPassContext context)
    : context_(std::move(context)), pipe_([this](const std::vector<std::string>& lines) { send(lines); }) {
  make_fresh_staging(context_.connection);  // before the first batch: until then the pipe only waits
  lines_.reserve(kRowsPerCopy);
}

void PgPassStaging::stage(const std::vector<Package>& packages) {
  for (const Package& p : packages) {
    staging_line(line_, next_seq_++, p);
    lines_.push_back(line_.take());
    line_bytes_ += lines_.back().size();
    if (lines_.size() >= kRowsPerCopy || line_bytes_ >= kBytesPerCopy) flush();
  }
}

// The batch goes to the pipe, which sends it while the next one is built.
void PgPassStaging::flush() {
  if (lines_.empty()) return;
  pipe_.push(std::move(lines_));
  lines_ = {};
  lines_.reserve(kRowsPerCopy);
  line_bytes_ = 0;
}

// On the pipe's thread: one batch into staging, in a short transaction of its own.
void PgPassStaging::send(const std::vector<std::string>& lines) {
  pqxx::work tx(context_.connection, "stage");
  copy_lines(tx, "esim_staging", lines);
  tx.commit();
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

// The last batch sent and the pipe idle: from here on the connection is the diff's.
std::unique_ptr<PassDiff> PgPassStaging::finish() {
  flush();
  pipe_.drain();
  return std::make_unique<PgPassDiff>(context_, StagedListing{next_seq_, pipe_.busy_ms(), pipe_.batches()});
}

}  // namespace esim
