#include "sync/removal_proof.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "api/pager.h"
#include "util/cancel.h"

namespace esim {

struct RemovalProof::Lookup {
  std::string sim;
  std::vector<std::string> ids;  // the candidates on that SIM
  bool done = false;
};

namespace {

// The listing narrowed to one SIM, as a PageSource the pager can walk; counts its requests.
class SimListing final : public PageSource {
 public:
  SimListing(PageSource& inner, std::string sim) : inner_(inner), sim_(std::move(sim)) {}
  Page fetch_page(std::int64_t offset, int count) override { return fetch_filtered_page(offset, count, {}); }
  Page fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& filter) override {
    ListingFilter narrowed = filter;
    narrowed.sim = sim_;
    ++requests;
    return inner_.fetch_filtered_page(offset, count, narrowed);
  }
  std::int64_t requests = 0;

 private:
  PageSource& inner_;
  std::string sim_;
};

// Thrown from the page sink to stop walking a "filtered" listing that is not filtered.
struct FilterIgnored {
  std::string other_sim;
};

}  // namespace

bool RemovalProof::look_up(Lookup& lookup, ProofResult& result) {
  SimListing listing(source_, lookup.sim);
  std::vector<Package> found;
  std::string failure, ignored;
  try {
    Pager(listing, page_size_, 1).run([&](const Page& page) {
      for (const Package& p : page.packages) {
        if (p.sim != lookup.sim) throw FilterIgnored{p.sim.value_or("none")};
        found.push_back(p);
      }
    });
  } catch (const FilterIgnored& e) {
    ignored = "the server does not honour the sim filter (GET /packages?sim=" + lookup.sim +
              " listed a package on SIM " + e.other_sim + ")";
  } catch (const util::Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    failure = e.what();
  }

  std::lock_guard lock(result_mutex_);
  result.lookups += listing.requests;
  lookup.done = true;
  if (!ignored.empty() || !failure.empty()) {
    result.not_looked_up += static_cast<std::int64_t>(lookup.ids.size());
    if (!ignored.empty() && result.filter_ignored.empty()) result.filter_ignored = ignored;
    if (!failure.empty() && result.lookup_error.empty()) result.lookup_error = failure;
    return ignored.empty();
  }
  for (const std::string& id : lookup.ids) {
    const bool listed = std::any_of(found.begin(), found.end(), [&](const Package& p) { return p.id == id; });
    if (listed) {
      ++result.recovered;
    } else {
      result.gone.push_back(id);
    }
  }
  // Every package on the SIM is a sighting, not only the candidates: stage them all.
  for (Package& p : found) result.listed.push_back(std::move(p));
  return true;
}

ProofResult RemovalProof::settle(const std::vector<RemovalCandidate>& candidates) {
  ProofResult result;
  // One lookup per SIM, however many candidates share it.
  std::map<std::string, Lookup> by_sim;
  for (const RemovalCandidate& c : candidates) {
    if (!c.sim || c.sim->empty()) {
      ++result.without_sim;
      continue;
    }
    Lookup& lookup = by_sim[*c.sim];
    lookup.sim = *c.sim;
    lookup.ids.push_back(c.id);
  }
  std::vector<Lookup> lookups;
  lookups.reserve(by_sim.size());
  for (auto& [sim, lookup] : by_sim) lookups.push_back(std::move(lookup));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  // A server that ignores the filter makes every lookup useless: the first one that shows it
  // stops the rest.
  auto work = [&](bool calling_thread) {
    try {
      while (!stop) {
        if (calling_thread && beat_) beat_();
        const std::size_t i = next++;
        if (i >= lookups.size()) return;
        if (!look_up(lookups[i], result)) stop = true;
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  const int helpers = std::max(0, std::min<int>(concurrency_, static_cast<int>(lookups.size())) - 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < helpers; ++i) threads.emplace_back(work, false);
  work(true);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  for (const Lookup& lookup : lookups) {
    if (!lookup.done) result.not_looked_up += static_cast<std::int64_t>(lookup.ids.size());
  }
  return result;
}

}  // namespace esim
