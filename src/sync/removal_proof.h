#pragma once
// Settles removal candidates. A live package that a walk of the listing lacked was either
// skipped (the listing moved under the pager, or dropped it from a page) or is gone. Asking the
// server for it by id (GET /packages/{id}) tells which, but only if the server, at that moment,
// can find what is there: every batch of lookups carries controls, packages the walk has just
// seen, and a "no such package" counts only in a batch whose every control was found
// (ARCHITECTURE "What counts as proof").
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/page_source.h"
#include "store/store.h"

namespace esim {

struct ProofResult {
  std::vector<Package> listed;    // candidates a lookup found: the walk skipped them (sightings)
  std::vector<std::string> gone;  // candidates proven gone
  std::int64_t lookups = 0;       // requests made, controls included
  std::int64_t recovered = 0;     // candidates found (the walk had skipped them)
  // Candidates whose lookup proved nothing: it failed, or its batch lacked a control.
  std::int64_t inconclusive = 0;
  std::int64_t not_looked_up = 0;  // ids altered when stored (U+FFFD), which no lookup can name
  std::string why_inconclusive;    // the first reason, said once per pass
};

class RemovalProof {
 public:
  // Up to n ids the walk saw, of a status ("" for any); a fresh pick each call.
  using SeenPackages = std::function<std::vector<std::string>(const std::string& status, std::size_t n)>;

  // `beat` runs on the calling thread between lookups (watchdog, cancellation: it may throw
  // to stop). With concurrency > 1 the source is called from that many threads at once.
  RemovalProof(PageSource& source, SeenPackages seen, int concurrency, std::function<void()> beat)
      : source_(source), seen_(std::move(seen)), concurrency_(concurrency), beat_(std::move(beat)) {}

  ProofResult settle(const std::vector<RemovalCandidate>& candidates);

  // Candidates per batch, and controls of each status in a batch: a server that loses
  // packages of one status (or all of them) loses a control of that status too.
  static constexpr std::size_t kBatch = 25;
  static constexpr std::size_t kControlsPerStatus = 2;

 private:
  struct Lookup {
    std::string id;
    bool control = false;
    // A candidate of a status the walk saw no package of: no control can show that the server
    // finds packages like it, so its 404 proves nothing.
    bool uncontrolled = false;
    enum class Answer { kFound, kAbsent, kFailed } answer = Answer::kFailed;
    std::optional<Package> package;
    std::string failure;  // why kFailed, or what a control's answer was
  };
  std::vector<Lookup> plan(const std::vector<RemovalCandidate>& batch);
  void ask(std::vector<Lookup>& lookups);
  void judge(std::vector<Lookup>& lookups, ProofResult& result);

  PageSource& source_;
  SeenPackages seen_;
  std::set<std::string> statuses_never_seen_;  // asked once a pass: none of them was seen
  int concurrency_;
  std::function<void()> beat_;
};

}  // namespace esim
