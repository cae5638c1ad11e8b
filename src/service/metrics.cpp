#include "service/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

#include "domain/package.h"
#include "esim_sync_version.h"
#include "util/escape.h"

namespace esim {

namespace {

// Statuses come from the API, so the label set is bounded: the documented four always, then up
// to this many others that look like status names (the largest first); the rest count as "other".
constexpr std::size_t kExtraStatuses = 4;

std::map<std::string, std::int64_t> bounded_statuses(const std::map<std::string, std::int64_t>& by_status) {
  static const std::regex status_name("[A-Z][A-Z0-9_]{0,31}");
  std::map<std::string, std::int64_t> out;
  std::vector<std::pair<std::string, std::int64_t>> extra;
  for (const auto& [status, count] : by_status) {
    if (is_documented_status(status)) {
      out[status] += count;
    } else if (std::regex_match(status, status_name)) {
      extra.emplace_back(status, count);
    } else {
      out["other"] += count;
    }
  }
  std::sort(extra.begin(), extra.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (std::size_t i = 0; i < extra.size(); ++i) {
    out[i < kExtraStatuses ? extra[i].first : "other"] += extra[i].second;
  }
  return out;
}

}  // namespace

void Metrics::pass_started() {
  std::lock_guard lock(mutex_);
  in_progress_ = true;
  pass_started_unix_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Metrics::pass_finished(const PassOutcome& outcome, std::chrono::duration<double> took) {
  std::lock_guard lock(mutex_);
  in_progress_ = false;
  ++passes_[to_string(outcome.result)];
  leader_ = outcome.result != PassResult::kLockedOut;
  if (outcome.result == PassResult::kLockedOut) return;
  last_duration_ = took.count();
  retries_ += outcome.retries;
  if (outcome.result == PassResult::kFailed) ++failures_[to_string(outcome.error_kind)];
  if (!outcome.succeeded()) return;
  inserted_ += outcome.counts.inserted;
  removed_ += outcome.counts.removed;
  transitions_ += outcome.counts.status_changes;
  lookups_ += outcome.counts.lookups;
  lookups_inconclusive_ += outcome.counts.lookups_inconclusive;
  removed_by_lookup_ += outcome.counts.removed_by_lookup;
  removed_by_second_walk_ += outcome.counts.removed_by_second_walk;
  recovered_by_lookup_ += outcome.counts.recovered_by_lookup;
  removals_deferred_ = outcome.counts.removals_deferred;
  removals_held_ = !outcome.removals_applied;
  listing_moved_ += outcome.listing_moved ? 1 : 0;
  any_success_ = true;
  last_success_ = std::chrono::steady_clock::now();
  last_success_unix_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Metrics::set_live_packages(std::map<std::string, std::int64_t> by_status) {
  std::lock_guard lock(mutex_);
  live_ = bounded_statuses(by_status);
}

void Metrics::api_response(long status) {
  std::lock_guard lock(mutex_);
  ++responses_[status];
}

void Metrics::set_interval(std::chrono::milliseconds interval) {
  std::lock_guard lock(mutex_);
  interval_ = interval;
}

void Metrics::set_last_success(std::chrono::system_clock::time_point at) {
  std::lock_guard lock(mutex_);
  if (any_success_) return;  // a pass of this process already said so
  any_success_ = true;
  last_success_ = std::chrono::steady_clock::now() - (std::chrono::system_clock::now() - at);
  last_success_unix_ = std::chrono::duration<double>(at.time_since_epoch()).count();
}

void Metrics::set_database_reached() {
  std::lock_guard lock(mutex_);
  database_reached_ = true;
}

void Metrics::reload_finished(bool succeeded) {
  std::lock_guard lock(mutex_);
  ++(succeeded ? reloads_succeeded_ : reloads_failed_);
  last_reload_succeeded_ = succeeded;
}

Health Metrics::health() const {
  std::lock_guard lock(mutex_);
  if (!leader_ && passes_.count("locked_out") > 0) {
    return {200, "standby: another esim-sync is the writer; this one takes over if it goes\n"};
  }
  if (!any_success_ && !database_reached_) {
    return {503, "waiting for the database: esim-sync has not reached PostgreSQL since it started\n"};
  }
  if (!any_success_ || std::chrono::steady_clock::now() - last_success_ > 3 * interval_) {
    return {503, "no pass succeeded within three intervals\n"};
  }
  if (removals_held_) return {200, "warning: the last pass held its removals back (the mass-removal guard)\n"};
  return {200, "ok\n"};
}

namespace {

// One metric family's HELP and TYPE lines.
void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

// In the Prometheus text exposition format, one group of families after another.
std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  render_passes(out);         // 1. the passes
  render_packages(out);       // 2. what they wrote
  render_removal_proof(out);  // 3. how removals were proven
  render_service(out);        // 4. the service around them
  return out;
}

// The passes: in progress, started, results, failures, last success and duration.
void Metrics::render_passes(std::string& out) const {
  family(out, "esim_sync_pass_in_progress", "gauge", "1 while a pass runs.");
  out += fmt::format("esim_sync_pass_in_progress {}\n", in_progress_ ? 1 : 0);
  family(out, "esim_sync_pass_started_timestamp_seconds", "gauge", "Unix time at which the last pass started (0: none yet).");
  out += fmt::format("esim_sync_pass_started_timestamp_seconds {:.3f}\n", pass_started_unix_);
  family(out, "esim_sync_pass_failures_total", "counter", "Failed passes by what failed: api, payload or database.");
  for (const char* reason : {"api", "payload", "database"}) {
    auto it = failures_.find(reason);
    out += fmt::format("esim_sync_pass_failures_total{{reason=\"{}\"}} {}\n", reason,
                       it == failures_.end() ? 0 : it->second);
  }
  family(out, "esim_sync_passes_total", "counter", "Sync passes by result.");
  for (const char* result : {"succeeded", "failed", "aborted", "locked_out"}) {
    auto it = passes_.find(result);
    out += fmt::format("esim_sync_passes_total{{result=\"{}\"}} {}\n", result, it == passes_.end() ? 0 : it->second);
  }
  family(out, "esim_sync_last_success_timestamp_seconds", "gauge", "Unix time at which the last pass succeeded (0: never).");
  out += fmt::format("esim_sync_last_success_timestamp_seconds {:.3f}\n", last_success_unix_);
  family(out, "esim_sync_last_pass_duration_seconds", "gauge", "Wall time of the last pass.");
  out += fmt::format("esim_sync_last_pass_duration_seconds {:.3f}\n", last_duration_);
}

// What the passes wrote: live packages by status, transitions, inserts, removals.
void Metrics::render_packages(std::string& out) const {
  family(out, "esim_sync_packages", "gauge", "Live packages by status after the last succeeded pass.");
  for (const auto& [status, count] : live_) {
    out += fmt::format("esim_sync_packages{{status=\"{}\"}} {}\n", util::prometheus_label_value(status), count);
  }
  family(out, "esim_sync_status_transitions_total", "counter", "Status changes of listed packages recorded.");
  out += fmt::format("esim_sync_status_transitions_total {}\n", transitions_);
  family(out, "esim_sync_packages_inserted_total", "counter", "Packages seen for the first time.");
  out += fmt::format("esim_sync_packages_inserted_total {}\n", inserted_);
  family(out, "esim_sync_packages_removed_total", "counter", "Packages marked removed.");
  out += fmt::format("esim_sync_packages_removed_total {}\n", removed_);
}

// How removals were proven, deferred or held, and what the walks saw.
void Metrics::render_removal_proof(std::string& out) const {
  family(out, "esim_sync_removal_lookups_total", "counter",
         "Requests made to settle removal candidates (GET /packages/{id}), controls included.");
  out += fmt::format("esim_sync_removal_lookups_total {}\n", lookups_);
  family(out, "esim_sync_lookups_inconclusive_total", "counter",
         "Removal candidates whose lookup proved nothing: it failed, or a control the walk had just seen was not found.");
  out += fmt::format("esim_sync_lookups_inconclusive_total {}\n", lookups_inconclusive_);
  family(out, "esim_sync_removals_proven_total", "counter", "Removals applied, by how their absence was proven.");
  out += fmt::format("esim_sync_removals_proven_total{{proof=\"lookup\"}} {}\n", removed_by_lookup_);
  out += fmt::format("esim_sync_removals_proven_total{{proof=\"second_walk\"}} {}\n", removed_by_second_walk_);
  family(out, "esim_sync_packages_recovered_by_lookup_total", "counter",
         "Packages a walk skipped (the listing moved) that a lookup found still listed.");
  out += fmt::format("esim_sync_packages_recovered_by_lookup_total {}\n", recovered_by_lookup_);
  family(out, "esim_sync_removals_deferred", "gauge",
         "Removal candidates the last succeeded pass could not prove; removed if two complete walks lack them.");
  out += fmt::format("esim_sync_removals_deferred {}\n", removals_deferred_);
  family(out, "esim_sync_removals_held", "gauge",
         "1 when the last succeeded pass held its removals back (its walk lost more than sync.max_removed_fraction), else 0.");
  out += fmt::format("esim_sync_removals_held {}\n", removals_held_ ? 1 : 0);
  family(out, "esim_sync_listing_moved_total", "counter", "Passes whose walk saw the listing move while it was paged.");
  out += fmt::format("esim_sync_listing_moved_total {}\n", listing_moved_);
}

// The service: leadership, the API, the schedule, reloads, the build.
void Metrics::render_service(std::string& out) const {
  family(out, "esim_sync_leader", "gauge",
         "1 while this instance is the writer (its last pass held the writer lock), 0 while another one is.");
  out += fmt::format("esim_sync_leader {}\n", leader_ ? 1 : 0);
  family(out, "esim_sync_api_requests_total", "counter", "Requests to the packages API by HTTP status (0: no answer).");
  for (const auto& [status, count] : responses_) {
    out += fmt::format("esim_sync_api_requests_total{{code=\"{}\"}} {}\n", status, count);
  }
  family(out, "esim_sync_api_retries_total", "counter", "Requests to the API that were retried.");
  out += fmt::format("esim_sync_api_retries_total {}\n", retries_);
  family(out, "esim_sync_interval_seconds", "gauge", "schedule.interval in force (alert rules scale by it).");
  out += fmt::format("esim_sync_interval_seconds {:g}\n", std::chrono::duration<double>(interval_).count());
  family(out, "esim_sync_reloads_total", "counter", "Configuration reloads (SIGHUP) by result.");
  out += fmt::format("esim_sync_reloads_total{{result=\"succeeded\"}} {}\n", reloads_succeeded_);
  out += fmt::format("esim_sync_reloads_total{{result=\"failed\"}} {}\n", reloads_failed_);
  family(out, "esim_sync_last_reload_success", "gauge",
         "0 when the last reload failed and the previous configuration stayed, else 1.");
  out += fmt::format("esim_sync_last_reload_success {}\n", last_reload_succeeded_ ? 1 : 0);
  family(out, "esim_sync_build_info", "gauge", "The running esim-sync's version (always 1).");
  out += fmt::format("esim_sync_build_info{{version=\"{}\"}} 1\n", kVersion);
}

}  // namespace esim
