#include "sync/removal_proof.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <set>

#include "api/page_parser.h"
#include "util/cancel.h"
#include "util/workers.h"

namespace esim {

namespace {

// An id that held what PostgreSQL cannot store was stored altered (U+FFFD): asking for it by
// that id could never find it, so such an answer proves nothing either way.
bool altered_when_stored(const std::string& id) { return id.find("\xEF\xBF\xBD") != std::string::npos; }

}  // namespace

// A batch: its candidates, and controls that resemble them: the package the walk saw on the
// same SIM (a server that answers a SIM's packages wrongly shows it there), and a few seen
// packages of each status among the candidates (one that drops a status shows it there). Never
// a control of another status: a server that lost every package of one status (a default
// filter, a shard) would find those and so "prove" the whole status gone. Controls and
// candidates alternate, so that both are asked of the server at the same moment.
std::vector<RemovalProof::Lookup> RemovalProof::plan(const std::vector<RemovalCandidate>& batch) {
  std::set<std::string> candidates, statuses;
  for (const RemovalCandidate& c : batch) {
    candidates.insert(c.id);
    statuses.insert(c.status);
  }
  std::vector<std::string> controls;
  auto add_control = [&](const std::string& id) {
    if (!candidates.count(id) && std::find(controls.begin(), controls.end(), id) == controls.end()) {
      controls.push_back(id);
    }
  };
  for (const RemovalCandidate& c : batch) {
    if (c.seen_on_same_sim) add_control(*c.seen_on_same_sim);
  }
  for (const std::string& status : statuses) {
    if (statuses_never_seen_.count(status)) continue;
    std::vector<std::string> seen = seen_(status, kControlsPerStatus);
    if (seen.empty()) statuses_never_seen_.insert(status);
    for (const std::string& id : seen) add_control(id);
  }
  std::vector<Lookup> lookups;
  auto ask_for = [&](const std::string& id, bool control, bool uncontrolled) {
    Lookup& l = lookups.emplace_back();
    l.id = id;
    l.control = control;
    l.uncontrolled = uncontrolled;
  };
  for (std::size_t i = 0; i < std::max(batch.size(), controls.size()); ++i) {
    if (i < controls.size()) ask_for(controls[i], true, false);
    if (i < batch.size()) ask_for(batch[i].id, false, statuses_never_seen_.count(batch[i].status) > 0);
  }
  return lookups;
}

// Asks for every package of the batch, `concurrency` at a time.
void RemovalProof::ask(std::vector<Lookup>& lookups) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&](bool calling_thread) {
    try {
      while (!stop) {
        if (calling_thread && beat_) beat_();
        const std::size_t i = next++;
        if (i >= lookups.size()) return;
        Lookup& lookup = lookups[i];
        try {
          lookup.package = source_.fetch_package(lookup.id);
          if (!lookup.package) {
            lookup.answer = Lookup::Answer::kAbsent;
            lookup.failure = "it answered 404";
          } else if (lookup.package->id != lookup.id) {
            lookup.failure = "it answered with another package, " + shown_id(lookup.package->id);
            lookup.package.reset();
          } else {
            lookup.answer = Lookup::Answer::kFound;
          }
        } catch (const util::Cancelled&) {
          throw;
        } catch (const std::exception& e) {
          lookup.failure = e.what();
        }
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  const int helpers = std::max(0, std::min<int>(concurrency_, static_cast<int>(lookups.size())) - 1);
  {
    util::Workers others(helpers, [&] { work(false); });
    work(true);
  }  // joined
  if (error) std::rethrow_exception(error);
}

// A found candidate was skipped by the walk, whatever the controls say: the server showed it.
// An absent one is gone only when every control of its batch was found.
void RemovalProof::judge(std::vector<Lookup>& lookups, ProofResult& result) {
  const Lookup* missing_control = nullptr;
  bool any_control = false;
  for (const Lookup& l : lookups) {
    any_control = any_control || l.control;
    if (l.control && l.answer != Lookup::Answer::kFound && missing_control == nullptr) missing_control = &l;
  }
  // A walk that saw nothing offers no control: then no "no such package" proves anything.
  const bool can_find = any_control && missing_control == nullptr;
  for (Lookup& l : lookups) {
    if (l.control) continue;
    if (l.answer == Lookup::Answer::kFound) {
      ++result.recovered;
      result.listed.push_back(std::move(*l.package));
    } else if (l.answer == Lookup::Answer::kAbsent && can_find && !l.uncontrolled) {
      result.gone.push_back(l.id);
    } else {
      ++result.inconclusive;
      if (result.why_inconclusive.empty()) {
        result.why_inconclusive =
            l.answer != Lookup::Answer::kAbsent ? "a lookup failed: " + l.failure
            : l.uncontrolled ? "the walk saw no package of the status of " + shown_id(l.id) +
                                   " to check the server's answer against"
            : missing_control != nullptr
                ? "GET /packages/" + shown_id(missing_control->id) +
                      " did not find a package the walk had just seen (" + missing_control->failure +
                      "), so no answer of its batch proves anything"
                : "the walk saw no package to check the lookups against";
      }
    }
  }
}

ProofResult RemovalProof::settle(const std::vector<RemovalCandidate>& candidates) {
  ProofResult result;
  std::vector<RemovalCandidate> askable;
  for (const RemovalCandidate& c : candidates) {
    if (altered_when_stored(c.id)) {
      ++result.not_looked_up;
    } else {
      askable.push_back(c);
    }
  }
  for (std::size_t from = 0; from < askable.size(); from += kBatch) {
    const std::vector<RemovalCandidate> batch(askable.begin() + static_cast<std::ptrdiff_t>(from),
                                              askable.begin() + static_cast<std::ptrdiff_t>(std::min(from + kBatch, askable.size())));
    std::vector<Lookup> lookups = plan(batch);
    ask(lookups);
    result.lookups += static_cast<std::int64_t>(lookups.size());
    judge(lookups, result);
  }
  return result;
}

}  // namespace esim
