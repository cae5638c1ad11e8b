#pragma once
// What the daemon exposes to Prometheus (/metrics) and to load balancers or probes (/healthz).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sync/sync_pass.h"

namespace esim {

// What /healthz answers: 200 while the mirror is fresh (or this instance is a standby), with a
// body that says which, and a warning when the last pass held its removals back; 503 when no
// pass succeeded within three intervals ("waiting for the database" before it was reached).
struct Health {
  int code;
  std::string body;
};

class Metrics {
 public:
  void pass_started();
  void pass_finished(const PassOutcome& outcome, std::chrono::duration<double> took);
  // The last success as the database knows it, read at start: a restart is not an outage.
  void set_last_success(std::chrono::system_clock::time_point at);
  void set_live_packages(std::map<std::string, std::int64_t> by_status);
  void api_response(long status);  // 0: no answer at all
  void set_interval(std::chrono::milliseconds interval);
  // The service connected and migrated: until then /healthz says it waits for the database.
  void set_database_reached();
  // A reload (SIGHUP): applied, or failed with the previous configuration kept.
  void reload_finished(bool succeeded);

  std::string render() const;  // the Prometheus text exposition format
  Health health() const;

 private:
  // Each appends its families to `out`; the caller holds the mutex.
  void render_passes(std::string& out) const;
  void render_packages(std::string& out) const;
  void render_removal_proof(std::string& out) const;
  void render_service(std::string& out) const;

  mutable std::mutex mutex_;
  std::map<std::string, long long> passes_;  // by result
  std::map<long, long long> responses_;      // by HTTP status
  std::map<std::string, std::int64_t> live_;
  long long inserted_ = 0, removed_ = 0, transitions_ = 0, retries_ = 0;
  // The removal proof (issue: no invented removals): what it cost and what it settled.
  long long lookups_ = 0, lookups_inconclusive_ = 0, removed_by_lookup_ = 0, removed_by_second_walk_ = 0, recovered_by_lookup_ = 0;
  long long removals_deferred_ = 0;  // after the last succeeded pass
  bool removals_held_ = false;       // the last succeeded pass's removals were held by the guard
  long long listing_moved_ = 0;      // passes whose walk saw the listing move
  bool leader_ = false;              // the last pass held the writer lock (not locked out)
  std::map<std::string, long long> failures_;  // failed passes by error_kind
  bool in_progress_ = false;
  double pass_started_unix_ = 0;
  double last_duration_ = 0, last_success_unix_ = 0;
  std::chrono::steady_clock::time_point last_success_{};
  bool any_success_ = false;
  bool database_reached_ = false;
  std::chrono::milliseconds interval_{std::chrono::minutes(15)};
  long long reloads_succeeded_ = 0, reloads_failed_ = 0;
  bool last_reload_succeeded_ = true;  // as Prometheus's own: 1 until a reload fails
};

// Serves /metrics and /healthz on metrics.listen from a thread of its own.
class MetricsServer {
 public:
  MetricsServer(const std::string& listen, Metrics& metrics);  // throws when it cannot bind
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace esim
