#pragma once
// Small fakes for the seams (HTTP transport, page source, store, clock). Each records what it
// was asked, so tests assert on behaviour a user cares about rather than on call order.
#include <deque>
#include <mutex>
#include <thread>
#include <set>
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>

#include "api/http_transport.h"
#include "api/page_source.h"
#include "store/store.h"
#include "util/clock.h"

namespace esim::fakes {

class FakeTransport : public HttpTransport {
 public:
  std::deque<HttpResponse> responses;  // answered in order; TransportError when empty
  std::vector<HttpRequest> requests;

  // Queues an answer; an empty-bodied status 0 stands for "no answer" (TransportError).
  void reply(long status, std::string body, std::string retry_after = "") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    responses.push_back(r);
  }

  HttpResponse get(const HttpRequest& request) override {
    requests.push_back(request);
    if (responses.empty()) throw TransportError("connection refused");
    HttpResponse r = responses.front();
    responses.pop_front();
    if (r.status == 0) throw TransportError("connection reset by peer");
    return r;
  }
};

inline Package package(const std::string& id, const std::string& status = "ACTIVE") {
  Package p;
  p.id = id;
  p.sim = "sim-" + id;  // one package per SIM unless a test says otherwise
  p.status = status;
  p.raw_json = "{\"id\":\"" + id + "\",\"status\":\"" + status + "\"}";
  return p;
}

// Serves a listing held in memory. Before each page, `before_page` may change the listing,
// to imitate packages arriving or leaving while we page. `max_per_page` imitates a server
// that returns fewer than asked.
class FakePageSource : public PageSource {
 public:
  std::vector<Package> listing;
  std::vector<std::pair<std::int64_t, int>> asked;  // (offset, count) of each request
  std::function<void(FakePageSource&)> before_page;
  int max_per_page = 1 << 30;
  std::int64_t fail_at_offset = -1;  // throw ApiError when this offset is asked

  // The concurrent pager calls from several threads. Shared so that the fake stays copyable.
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  int delay_ms = 0;  // per request, to let concurrent requests overlap

  // Lookups by SIM: the SIMs asked for, in order. ignore_sim_filter imitates a server that
  // answers them with the unfiltered listing.
  std::vector<std::string> sim_lookups;
  bool ignore_sim_filter = false;
  std::optional<std::int64_t> reported_total;  // "total" to report instead of the true size
  int extra_per_page = 0;                      // pages hold this many more than asked

  Page fetch_page(std::int64_t offset, int count) override {
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    std::lock_guard lock(*mutex);
    asked.emplace_back(offset, count);
    if (before_page) before_page(*this);
    if (offset == fail_at_offset) throw ApiError("GET page at offset " + std::to_string(offset) + ": HTTP 500", 500);
    return slice(listing, offset, count, reported_total);
  }

  Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) override {
    if (!filter.sim || ignore_sim_filter) return fetch_page(offset, count);
    std::lock_guard lock(*mutex);
    sim_lookups.push_back(*filter.sim);
    std::vector<Package> on_sim;
    for (const Package& p : listing) {
      if (p.sim == filter.sim) on_sim.push_back(p);
    }
    return slice(on_sim, offset, count, std::nullopt);
  }

  // Lookups by id: the ids asked for, in order. answer_404 imitates a server whose lookups say
  // "no such package" for everything, or (by_id_omits) for the packages it returns true for.
  std::vector<std::string> id_lookups;
  bool answer_404 = false;
  std::function<bool(const Package&)> by_id_omits;
  std::optional<Package> fetch_package(const std::string& id) override {
    std::lock_guard lock(*mutex);
    id_lookups.push_back(id);
    if (answer_404) return std::nullopt;
    for (const Package& p : listing) {
      if (p.id == id) return by_id_omits && by_id_omits(p) ? std::nullopt : std::optional<Package>(p);
    }
    return std::nullopt;
  }

 private:
  Page slice(const std::vector<Package>& from, std::int64_t offset, int count, std::optional<std::int64_t> total) const {
    Page page;
    page.offset = offset;
    page.total = total.value_or(static_cast<std::int64_t>(from.size()));
    const std::int64_t n = std::min(count, max_per_page) + extra_per_page;
    for (auto i = offset; i < static_cast<std::int64_t>(from.size()) && i < offset + n; ++i) {
      page.packages.push_back(from[static_cast<std::size_t>(i)]);
    }
    return page;
  }
};

class FakeStore : public Store {
 public:
  struct Commit {
    std::vector<std::string> staged_ids;
    ApplyOptions options;
  };
  std::set<std::string> live;  // the mirror's live ids, for the removal candidates
  std::set<std::string> missed_before;  // candidates an earlier walk lacked (the two-walk rule)
  std::vector<TimePoint> runs_started;
  std::vector<std::string> staged_ids;  // of the open pass
  std::vector<std::string> gone_ids;    // of the open pass: proven gone by lookup
  std::vector<Commit> commits;
  std::vector<std::pair<RunId, std::string>> failures;
  bool fail_on_commit = false;
  bool fail_on_start = false;

  RunId start_run(TimePoint at, std::chrono::seconds) override {
    if (fail_on_start) throw std::runtime_error("database is down");
    runs_started.push_back(at);
    return static_cast<RunId>(runs_started.size());
  }
  std::unique_ptr<PassStaging> open_pass(RunId) override {
    staged_ids.clear();
    gone_ids.clear();
    return std::make_unique<Staging>(*this);
  }
  void fail_run(RunId run, const std::string& error) override { failures.emplace_back(run, error); }
  bool try_lock_writer() override {
    if (lock_held_elsewhere) return false;
    locked = true;
    return true;
  }
  void unlock_writer() override { locked = false; }
  std::int64_t abort_dead_runs() override { return dead_runs; }
  void abort_run(RunId run, const std::string& reason) override { aborts.emplace_back(run, reason); }
  // The account the mirror holds (empty until the first pass that names one).
  MirroredAccount account;
  void bind_account(const MirroredAccount& wanted, bool adopt) override {
    if (!account.empty() && !adopt &&
        (account.api_host != wanted.api_host || account.api_path != wanted.api_path || account.user_id != wanted.user_id)) {
      throw WrongAccount("this database mirrors " + account.describe() + ", not " + wanted.describe());
    }
    account = wanted;
  }
  std::vector<std::int64_t> progress;

  bool lock_held_elsewhere = false;
  bool locked = false;
  std::int64_t dead_runs = 0;
  std::vector<std::pair<RunId, std::string>> aborts;

 private:
  struct Staging : PassStaging {
    explicit Staging(FakeStore& s) : store(s) {}
    void stage(const std::vector<Package>& packages) override {
      for (const auto& p : packages) store.staged_ids.push_back(p.id);
    }
    void record_progress(std::int64_t packages_seen) override { store.progress.push_back(packages_seen); }
    std::unique_ptr<PassDiff> finish() override { return std::make_unique<Diff>(store); }
    FakeStore& store;
  };
  struct Diff : PassDiff {
    explicit Diff(FakeStore& s) : store(s) { take(); }
    // The live packages the staged ids lack are the candidates; those proven gone, or missed by
    // an earlier walk, are counted as the store would.
    void take() {
      std::set<std::string> distinct(store.staged_ids.begin(), store.staged_ids.end());
      StagingSummary s;
      s.rows = static_cast<std::int64_t>(store.staged_ids.size());
      s.distinct_ids = static_cast<std::int64_t>(distinct.size());
      s.live_packages = static_cast<std::int64_t>(store.live.size());
      for (const auto& id : store.live) {
        if (distinct.count(id)) continue;
        ++s.removal_candidates;
        const bool gone = std::count(store.gone_ids.begin(), store.gone_ids.end(), id) > 0;
        s.proven_gone += gone ? 1 : 0;
        s.missed_before += !gone && store.missed_before.count(id) ? 1 : 0;
      }
      summary_ = s;
    }
    const StagingSummary& summary() const override { return summary_; }
    std::vector<RemovalCandidate> removal_candidates(std::size_t limit) override {
      std::set<std::string> distinct(store.staged_ids.begin(), store.staged_ids.end());
      std::vector<RemovalCandidate> out;
      for (const auto& id : store.live) {
        if (!distinct.count(id) && out.size() < limit) out.push_back({id, "sim-" + id, "ACTIVE", std::nullopt});
      }
      return out;
    }
    // Every live package the walk staged is seen, whatever its status.
    std::vector<std::string> seen_packages(const std::string&, std::size_t n) override {
      std::set<std::string> distinct(store.staged_ids.begin(), store.staged_ids.end());
      std::vector<std::string> out;
      for (const auto& id : store.live) {
        if (distinct.count(id) && out.size() < n) out.push_back(id);
      }
      return out;
    }
    const StagingSummary& add_proof(const std::vector<Package>& listed, const std::vector<std::string>& gone) override {
      for (const auto& p : listed) store.staged_ids.push_back(p.id);
      store.gone_ids.insert(store.gone_ids.end(), gone.begin(), gone.end());
      take();
      return summary_;
    }
    PassCounts commit(const ApplyOptions& options) override {
      if (store.fail_on_commit) throw std::runtime_error("could not serialize access");
      store.commits.push_back({store.staged_ids, options});
      PassCounts counts;
      counts.packages_seen = static_cast<std::int64_t>(store.staged_ids.size());
      return counts;
    }
    FakeStore& store;
    StagingSummary summary_;
  };
};

class FakeClock : public util::Clock {
 public:
  mutable time_point at = time_point(std::chrono::seconds(1'764'000'000));
  mutable std::vector<std::chrono::milliseconds> sleeps;
  time_point now() const override { return at; }
  void sleep_for(std::chrono::milliseconds d) const override {
    sleeps.push_back(d);
    at += d;
  }
};

}  // namespace esim::fakes
