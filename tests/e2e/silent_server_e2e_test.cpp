// A server that is silent rather than wrong: it answers nothing for a pass, drops rows from a
// page after paging, cuts pages by bytes, answers lookups with nothing (or leaves some packages
// out), refuses offsets past the end, reports an absurd total, or belongs to another account.
// None of it may invent a removal or a reappearance: a negative answer counts only when the
// same server, at the same moment, showed it can find what is there (ARCHITECTURE "What counts
// as proof"). Each test makes the simulator misbehave that way first.
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::contains;
using esim::testing::EndToEnd;

namespace {

// Listing offset N holds pkg_(2500 - N): the simulator lists the newest first.
std::string at_offset(int offset) {
  char id[32];
  std::snprintf(id, sizeof id, "pkg_%08d", 2500 - offset);
  return id;
}

}  // namespace

class SilentServer : public EndToEnd, public ::testing::WithParamInterface<int> {
 protected:
  SilentServer() { write_config(sim.base_url(), 100, "  concurrency: " + std::to_string(GetParam()) + "\n"); }

  std::string history_rows() { return db.scalar("SELECT count(*) FROM esim.package_status_history"); }
  std::string removed_ids() {
    return db.scalar("SELECT coalesce(string_agg(id, ' ' ORDER BY id), '') FROM esim.packages WHERE removed_at IS NOT NULL");
  }
  // The first package of `status` in the truth, from the last pages of the listing.
  std::string some(const std::string& status) {
    for (const auto& [id, s] : sim.truth()) {
      if (s == status) return id;
    }
    return "";
  }
};

INSTANTIATE_TEST_SUITE_P(Pagers, SilentServer, ::testing::Values(1, 4),
                         [](const auto& test) { return test.param == 1 ? "Sequential" : "Concurrent"; });

// 1. The account answers as if empty for one pass (a backend blip, or credentials that point
//    at an empty account): the walk lost every package, so nothing is removed, nothing is looked
//    up, the pass says so, and when the listing is back nothing "reappears".
TEST_P(SilentServer, AnAccountEmptyForOnePassChangesNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string history = history_rows();
  for (int blip = 0; blip < 2; ++blip) {
    ASSERT_EQ(sim.post("/_sim/listing?empty_account=1"), 200);
    auto silent = esim_sync("once");
    ASSERT_EQ(silent.exit_code, 0) << silent.err;
    EXPECT_EQ(last_run("removed"), "0") << silent.err;
    EXPECT_EQ(last_run("lookups"), "0");
    EXPECT_EQ(last_run("removals_held"), "true");
    EXPECT_TRUE(contains(last_run("warning"), "2500 of 2500 live packages")) << last_run("warning");
    EXPECT_TRUE(contains(esim_sync("status").out, "removals held")) << esim_sync("status").out;
    ASSERT_EQ(sim.post("/_sim/listing?empty_account=0"), 200);
    auto back = esim_sync("once");
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_EQ(last_run("removals_held"), "false");
  }
  EXPECT_EQ(history_rows(), history) << "no removal and no reappearance may be recorded";
  EXPECT_EQ(removed_ids(), "");
  EXPECT_EQ(mirror(), sim.truth());
}

// 2. A row filtered out after LIMIT/OFFSET (a soft-deleted package) leaves its page short in the
//    middle of the listing: the walk goes on to an empty page, so the packages after the gap are
//    seen (one that comes back there is inserted) and only the deleted one is removed.
TEST_P(SilentServer, AShortPageInTheMiddleDoesNotEndTheWalk) {
  const std::string returning = at_offset(2000);
  ASSERT_EQ(sim.post("/_sim/packages/" + returning + "/hide"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string deleted = at_offset(150);
  ASSERT_EQ(sim.post("/_sim/packages/" + deleted + "/ghost"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + returning + "/unhide"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(falsely_removed(), "");
  EXPECT_EQ(removed_ids(), deleted) << result.err;
  EXPECT_EQ(last_run("inserted"), "1");
  EXPECT_EQ(last_run("removals_held"), "false");
  EXPECT_EQ(mirror(), sim.truth());
}

// 3. A server that caps each response by bytes (about 37 packages a page, varying): every page
//    is short, none ends the listing.
TEST_P(SilentServer, PagesCutByBytesWalkTheWholeListing) {
  ASSERT_EQ(sim.post("/_sim/listing?max_bytes=8000"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(mirror(), sim.truth());
  for (int offset : {5, 1200, 2490}) ASSERT_EQ(sim.post("/_sim/packages/" + at_offset(offset) + "/hide"), 200);
  ASSERT_EQ(sim.post("/_sim/add?count=4"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(falsely_removed(), "");
  EXPECT_EQ(last_run("removed"), "3") << result.err;
  EXPECT_EQ(last_run("inserted"), "4");
  EXPECT_EQ(mirror(), sim.truth());
}

// 4. Lookups that answer nothing prove nothing: neither a package the walk skipped (still
//    there) nor one really gone is removed on their word; once lookups answer again, the one
//    really gone goes.
TEST_P(SilentServer, LookupsThatAnswerNothingProveNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/listing?lookups=empty"), 200);
  const std::string skipped = at_offset(2450), gone = at_offset(700);
  ASSERT_EQ(sim.post("/_sim/packages/" + skipped + "/unpaged"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + gone + "/hide"), 200);
  for (int pass = 0; pass < 3; ++pass) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(removed_ids(), "") << "pass " << pass << "\n" << result.err;
    EXPECT_NE(last_run("lookups_inconclusive"), "0");
  }
  ASSERT_EQ(sim.post("/_sim/listing?lookups=honest"), 200);
  auto honest = esim_sync("once");
  ASSERT_EQ(honest.exit_code, 0) << honest.err;
  EXPECT_EQ(removed_ids(), gone);
  EXPECT_EQ(last_run("recovered_by_lookup"), "1");
  EXPECT_EQ(falsely_removed(), "");
}

// 5. Lookups that silently leave out every package that is not ACTIVE: a control of the
//    candidate's own status shows it, and the batch proves nothing.
TEST_P(SilentServer, LookupsThatOmitPackagesProveNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/listing?lookups=omit"), 200);
  const std::string terminated = some("TERMINATED"), not_active = some("NOT_ACTIVE");
  ASSERT_FALSE(terminated.empty());
  ASSERT_EQ(sim.post("/_sim/packages/" + terminated + "/unpaged"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + not_active + "/unpaged"), 200);
  for (int pass = 0; pass < 3; ++pass) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(falsely_removed(), "") << "pass " << pass << "\n" << result.err;
  }
  EXPECT_EQ(last_run("lookups_inconclusive"), "2");
}

// 6. A SIM that held \u0000 is stored altered (U+FFFD), and a package can move to another SIM:
//    neither may make its package look gone when the walk skips it.
TEST_P(SilentServer, ASkippedPackageWithAnAlteredOrChangedSimIsFound) {
  const std::string altered = at_offset(2460), moved = at_offset(2470);
  ASSERT_EQ(sim.post("/_sim/packages/" + altered + "/move-sim?to=8914800000%5Cu00009"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/packages/" + altered + "/unpaged"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + moved + "/move-sim"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + moved + "/unpaged"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(falsely_removed(), "") << result.err;
  EXPECT_EQ(last_run("recovered_by_lookup"), "2");
  EXPECT_NE(db.scalar("SELECT sim FROM esim.packages WHERE id = '" + moved + "'"), "8914800000000000" + moved.substr(8))
      << "the package is applied as the lookup saw it, on its new SIM";
}

// 7. A server that answers 400 (a documented code) for an offset past the end: every page
//    before it arrived, so the pass succeeds.
TEST_P(SilentServer, AnErrorPastTheEndDoesNotFailThePass) {
  ASSERT_EQ(sim.post("/_sim/listing?past_end=400"), 200);
  auto first = esim_sync("once");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(mirror(), sim.truth());
  ASSERT_EQ(sim.post("/_sim/packages/" + at_offset(300) + "/hide"), 200);
  auto second = esim_sync("once");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(last_run("removed"), "1");
  EXPECT_EQ(mirror(), sim.truth());
}

// 8. "total": 2^63-1 must not overflow the runaway bound.
TEST_P(SilentServer, TheLargestTotalDoesNotOverflow) {
  ASSERT_EQ(sim.post("/_sim/listing?total=absurd&absurd_total=9223372036854775807"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
}

// Liveness: on an honest server a package really removed goes in the first pass that misses
// it; beyond sync.max_removal_lookups, in the next complete walk (docs/failure-behaviour.md "The bound").
TEST_P(SilentServer, RealRemovalsGoWithinTwoPasses) {
  dir.write("config.yaml", esim::testing::read_file(dir.file("config.yaml")) + "sync:\n  max_removal_lookups: 2\n");
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  for (int offset : {10, 400, 900, 1700, 2400}) ASSERT_EQ(sim.post("/_sim/packages/" + at_offset(offset) + "/hide"), 200);
  auto first = esim_sync("once");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(last_run("removed_by_lookup"), "2");
  EXPECT_EQ(last_run("removals_deferred"), "3");
  auto second = esim_sync("once");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(falsely_removed(), "");
}

// One account per mirror: a config pointing at another account (a copy-paste mistake) is
// refused before anything is written; moving the mirror is said explicitly.
class SecondAccount : public EndToEnd {
 protected:
  SecondAccount() : EndToEnd({"--packages", "300", "--seed", "7", "--other-user-id", "reseller-2"}) {}
};

TEST_F(SecondAccount, IsRefusedBeforeAnythingIsWritten) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string before = snapshot();
  const std::string runs = db.scalar("SELECT count(*) FROM esim.sync_runs");
  const std::string config = esim::testing::read_file(dir.file("config.yaml"));
  const auto at = config.find("user_id: reseller-1");
  ASSERT_NE(at, std::string::npos);
  dir.write("config.yaml", config.substr(0, at) + "user_id: reseller-2" + config.substr(at + 19));
  auto refused = esim_sync("once");
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_TRUE(contains(refused.err, "reseller-1")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "reseller-2")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "--adopt-account")) << refused.err;
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.sync_runs"), runs);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE id LIKE 'pkg_b_%'"), "0");

  auto adopted = esim::testing::run_command({ESIM_SYNC_BINARY, "once", "--adopt-account", "--allow-mass-removal",
                                             "--config", dir.file("config.yaml")},
                                            {{"E2E_API_KEY", esim::testing::kSimKey}});
  ASSERT_EQ(adopted.exit_code, 0) << adopted.err;
  EXPECT_EQ(db.scalar("SELECT user_id FROM esim.mirrored_account"), "reseller-2");
  // The new account's packages, and none of the old one's: each proven gone by the new account.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NULL AND id LIKE 'pkg_b_%'"), "300");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE removed_at IS NULL AND id NOT LIKE 'pkg_b_%'"), "0");
}

// Found by review: a server that lost every package of one status, from the listing and from
// its lookups alike, must not see the whole status "proven" gone by controls of other statuses.
TEST_P(SilentServer, AStatusLostWholesaleIsNotProvenGone) {
  std::vector<std::string> paused;
  for (int offset : {2410, 2420, 2430}) {
    paused.push_back(at_offset(offset));
    ASSERT_EQ(sim.post("/_sim/packages/" + paused.back() + "/status?status=PAUSED"), 200);
  }
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/listing?lookups=omit"), 200);  // lookups find only ACTIVE packages
  for (const auto& id : paused) ASSERT_EQ(sim.post("/_sim/packages/" + id + "/unpaged"), 200);
  for (int pass = 0; pass < 3; ++pass) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(removed_ids(), "") << "pass " << pass << "\n" << result.err;
  }
}

// Found by review: a listing that leaves some packages out, its total too (so each walk looks
// complete), while lookups find them, with more of them than lookups a pass: a walk that lacked
// packages the server holds is no evidence for the two-walk rule.
TEST_P(SilentServer, PackagesTheListingLeavesOutButLookupsFindAreNeverRemoved) {
  dir.write("config.yaml", esim::testing::read_file(dir.file("config.yaml")) + "sync:\n  max_removal_lookups: 2\n");
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  for (int offset : {100, 600, 1100, 1600, 2100}) ASSERT_EQ(sim.post("/_sim/packages/" + at_offset(offset) + "/unlisted"), 200);
  for (int pass = 0; pass < 4; ++pass) {
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(removed_ids(), "") << "pass " << pass << "\n" << result.err;
    EXPECT_EQ(last_run("walk_complete"), "false");
  }
}

// Found by review: a server that caps offsets (a search index's result window) refuses one
// far below the listing's total. That is no end of the listing: the pass fails and says why,
// rather than leave the packages past it stale for good.
TEST_P(SilentServer, AnOffsetCapBelowTheTotalFailsThePassSayingWhy) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string before = snapshot();
  ASSERT_EQ(sim.post("/_sim/listing?max_offset=1000"), 200);
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_TRUE(contains(result.err, "caps offsets")) << result.err;
  EXPECT_EQ(snapshot(), before);
}

// A total that still counts a package that went, from a server that refuses offsets past the
// end: the refusal within a page of the total is the end.
TEST_P(SilentServer, ARefusalJustBelowALaggingTotalIsTheEnd) {
  ASSERT_EQ(sim.post("/_sim/listing?past_end=400"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/listing?total=frozen"), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + at_offset(40) + "/hide"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(last_run("removed"), "1");
  EXPECT_EQ(mirror(), sim.truth());
}

// Found by review: a server that fails every request after the first page must not be paged
// until the runaway bound by the concurrent workers.
TEST_P(SilentServer, AServerThatFailsEveryPageIsNotFloodedWithRequests) {
  ASSERT_EQ(sim.post("/_sim/fail?after=1&times=1000000&status=401"), 200);
  const long long before = sim.package_requests();
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_LE(sim.package_requests() - before, 1 + 2 * GetParam() + 1) << result.err;
}
