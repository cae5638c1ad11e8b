// RemovalProof on its own: what a lookup's answer proves, next to which controls.
#include "sync/removal_proof.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fakes.h"

using esim::RemovalCandidate;
using esim::RemovalProof;
using esim::fakes::FakePageSource;
using esim::fakes::package;

namespace {

// The walk saw seen_a and seen_b (ACTIVE); the candidates are whatever a test adds.
struct Proof {
  FakePageSource source;
  std::map<std::string, std::vector<std::string>> seen_by_status{{"ACTIVE", {"seen_a", "seen_b"}}};
  std::vector<std::string> statuses_asked;

  Proof() {
    source.listing.push_back(package("seen_a"));
    source.listing.push_back(package("seen_b"));
  }
  esim::ProofResult settle(const std::vector<RemovalCandidate>& candidates) {
    auto seen = [this](const std::string& status, std::size_t n) {
      statuses_asked.push_back(status);
      std::vector<std::string> out = seen_by_status[status];
      if (out.size() > n) out.resize(n);
      return out;
    };
    return RemovalProof(source, seen, 2, [] {}).settle(candidates);
  }
};

RemovalCandidate candidate(const std::string& id, const std::string& status = "ACTIVE") {
  return {id, "sim-" + id, status, std::nullopt};
}

bool asked(const FakePageSource& source, const std::string& id) {
  return std::find(source.id_lookups.begin(), source.id_lookups.end(), id) != source.id_lookups.end();
}

}  // namespace

TEST(RemovalProof, A404NextToFoundControlsProvesGone) {
  Proof p;
  auto result = p.settle({candidate("gone1"), candidate("gone2")});
  EXPECT_EQ(result.gone, (std::vector<std::string>{"gone1", "gone2"}));
  EXPECT_EQ(result.inconclusive, 0);
  EXPECT_TRUE(asked(p.source, "seen_a"));
  EXPECT_EQ(result.lookups, 4);  // two candidates, two controls
}

TEST(RemovalProof, AFoundCandidateIsASightingWhateverTheControls) {
  Proof p;
  p.source.listing.push_back(package("skipped"));
  p.source.answer_404 = false;
  p.source.by_id_omits = [](const esim::Package& pkg) { return pkg.id.rfind("seen", 0) == 0; };  // controls lost
  auto result = p.settle({candidate("skipped"), candidate("gone1")});
  ASSERT_EQ(result.listed.size(), 1u);
  EXPECT_EQ(result.listed[0].id, "skipped");
  EXPECT_EQ(result.recovered, 1);
  EXPECT_TRUE(result.gone.empty()) << "a lost control voids every 404 of its batch";
  EXPECT_EQ(result.inconclusive, 1);
}

// A server that lost every package of one status (a default filter, a shard) answers 404 for
// them and finds the others: controls of another status must not vouch for it.
TEST(RemovalProof, NoControlOfTheCandidatesStatusProvesNothing) {
  Proof p;
  p.seen_by_status[""] = {"seen_a", "seen_b"};  // packages of any status were seen...
  auto result = p.settle({candidate("t1", "TERMINATED"), candidate("t2", "TERMINATED")});  // ...none TERMINATED
  EXPECT_TRUE(result.gone.empty());
  EXPECT_EQ(result.inconclusive, 2);
  EXPECT_NE(result.why_inconclusive.find("saw no package of the status"), std::string::npos) << result.why_inconclusive;
  EXPECT_EQ(std::count(p.statuses_asked.begin(), p.statuses_asked.end(), ""), 0);
}

TEST(RemovalProof, AnIdStoredAlteredIsNeverAsked) {
  Proof p;
  auto result = p.settle({candidate("pkg_odd\xEF\xBF\xBD")});
  EXPECT_EQ(result.not_looked_up, 1);
  EXPECT_TRUE(p.source.id_lookups.empty());
  EXPECT_TRUE(result.gone.empty());
}

// Every batch carries its own controls, asked at the same moment as its candidates.
TEST(RemovalProof, EveryBatchHasItsControls) {
  Proof p;
  std::vector<RemovalCandidate> many;
  for (int i = 0; i < 60; ++i) many.push_back(candidate("gone" + std::to_string(i)));
  auto result = p.settle(many);
  EXPECT_EQ(result.gone.size(), 60u);
  EXPECT_EQ(std::count(p.source.id_lookups.begin(), p.source.id_lookups.end(), "seen_a"), 3);  // 25 + 25 + 10
}
