// The esim-sync binary against esim-api-sim and PostgreSQL, over real HTTP, asserting what a
// BI user would see in the tables.
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::kSimKey;

TEST_F(EndToEnd, InitialLoadMirrorsTheListingExactly) {
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_status_history WHERE old_status IS NULL"), "2500");
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', status, packages_seen, inserted) FROM esim.sync_runs"),
            "succeeded,2500,2500");
}

TEST_F(EndToEnd, TransitionsRemovalAndReappearanceAreAudited) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  auto truth = sim.truth();
  auto it = truth.begin();
  const std::string changed = it->first, old_status = it->second;
  const std::string vanished = (++it)->first, vanished_status = it->second;
  const std::string new_status = old_status == "TERMINATED" ? "SUSPENDED" : "TERMINATED";
  ASSERT_EQ(sim.post("/_sim/packages/" + changed + "/status?status=" + new_status), 200);
  ASSERT_EQ(sim.post("/_sim/packages/" + vanished + "/hide"), 200);

  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(mirror(), sim.truth());
  auto transitions = [&](const std::string& id) {
    return db.scalar("SELECT string_agg(coalesce(old_status, '-') || '>' || coalesce(new_status, '-'), ' ' "
                     "ORDER BY id) FROM esim.package_status_history WHERE package_id = '" + id + "'");
  };
  EXPECT_EQ(transitions(changed), "->" + old_status + " " + old_status + ">" + new_status);
  EXPECT_EQ(transitions(vanished), "->" + vanished_status + " " + vanished_status + ">-");
  EXPECT_EQ(db.scalar("SELECT removed_at IS NOT NULL FROM esim.packages WHERE id = '" + vanished + "'"), "t");

  ASSERT_EQ(sim.post("/_sim/packages/" + vanished + "/unhide"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(transitions(vanished), "->" + vanished_status + " " + vanished_status + ">- ->" + vanished_status);
  EXPECT_EQ(db.scalar("SELECT removed_at IS NULL FROM esim.packages WHERE id = '" + vanished + "'"), "t");
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, ChurnOverSeveralPassesKeepsMirrorAndHistoryConsistent) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  for (int step = 0; step < 3; ++step) {
    ASSERT_EQ(sim.post("/_sim/step?fraction=0.05"), 200);
    auto result = esim_sync("once");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    ASSERT_EQ(mirror(), sim.truth()) << "after churn step " << step;
  }
  // The latest transition of every package says where it is now: live ones their status,
  // removed ones NULL. No transition is missing or invented.
  EXPECT_EQ(db.scalar(R"(
      SELECT count(*) FROM esim.packages p
        JOIN LATERAL (SELECT new_status FROM esim.package_status_history h
                       WHERE h.package_id = p.id ORDER BY h.id DESC LIMIT 1) last ON true
       WHERE last.new_status IS DISTINCT FROM (CASE WHEN p.removed_at IS NULL THEN p.status END))"),
            "0");
  EXPECT_GT(std::stoi(db.scalar("SELECT count(*) FROM esim.package_status_history WHERE old_status IS NOT NULL "
                                "AND new_status IS NOT NULL")),
            0);
}

TEST_F(EndToEnd, NoOpPassRewritesNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  std::string before = db.scalar("SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM esim.packages");
  std::string history = db.scalar("SELECT count(*) FROM esim.package_status_history");
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM esim.packages"), before);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.package_status_history"), history);
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', unchanged, updated, inserted, removed) FROM esim.sync_runs "
                      "ORDER BY id DESC LIMIT 1"),
            "2500,0,0,0");
}

TEST_F(EndToEnd, FailedPassAppliesNothingAndTheNextOneCatchesUp) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();
  write_config(sim.base_url(), 100, "  concurrency: 1\n");  // so that "the 6th request" is offset 500
  ASSERT_EQ(sim.post("/_sim/fail?after=5&times=100&status=500"), 200);  // page 6 fails, retries too

  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(snapshot(), before);
  std::string run = db.scalar("SELECT status || ': ' || error FROM esim.sync_runs ORDER BY id DESC LIMIT 1");
  EXPECT_TRUE(contains(run, "failed: GET ")) << run;
  EXPECT_TRUE(contains(run, "offset=500")) << run;
  EXPECT_TRUE(contains(run, "HTTP 500")) << run;
  EXPECT_TRUE(contains(run, "gave up after 3 attempts")) << run;

  ASSERT_EQ(sim.post("/_sim/fail?times=0"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(mirror(), sim.truth());
}

TEST_F(EndToEnd, MalformedPageFailsNamingTheOffset) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.1"), 200);
  const std::string before = snapshot();
  write_config(sim.base_url(), 100, "  concurrency: 1\n");  // so that the 3rd request is offset 200
  ASSERT_EQ(sim.post("/_sim/fail?after=2&times=1&status=0"), 200);
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(snapshot(), before);
  EXPECT_TRUE(contains(db.scalar("SELECT error FROM esim.sync_runs ORDER BY id DESC LIMIT 1"),
                       "page at offset 200: response is not valid JSON"));
}

TEST_F(EndToEnd, WrongKeyFailsClearlyAndNeverShowsTheKey) {
  auto result = esim_sync("once", {{"E2E_API_KEY", "wrong-key-zzz"}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "HTTP 401")) << result.err;
  EXPECT_TRUE(contains(result.err, "check api.api_key and api.user_id")) << result.err;
  EXPECT_FALSE(contains(result.err + result.out, "wrong-key-zzz"));
  EXPECT_FALSE(contains(db.scalar("SELECT string_agg(error, '') FROM esim.sync_runs"), "wrong-key-zzz"));
}

TEST_F(EndToEnd, TheKeyNeverAppearsInLogsEvenAtDebugLevel) {
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0);
  // A line only debug level prints (the fixture's config asks for it): without it, the absence
  // of the key below would prove nothing about debug logging.
  ASSERT_TRUE(contains(result.err + result.out, "summary (the diff)")) << result.err;
  EXPECT_FALSE(contains(result.err + result.out, kSimKey));
}

// The helpers the assertions stand on: count() must fail on a query that cannot run, or
// EXPECT_EQ(count(...), 0) would pass on a typo; polled_count() waits such errors out.
TEST_F(EndToEnd, CountThrowsOnAQueryThatCannotRunAndPolledCountReadsZero) {
  EXPECT_EQ(count("SELECT 3"), 3);
  EXPECT_ANY_THROW(count("SELECT count(*) FROM esim.no_such_table"));
  EXPECT_EQ(polled_count("SELECT count(*) FROM esim.no_such_table"), 0);
}

class SdkShapedApi : public EndToEnd {
 protected:
  SdkShapedApi() : EndToEnd({"--packages", "300", "--template-object", "--sdk-fields"}) {}
};

TEST_F(SdkShapedApi, TemplateObjectsAndExtraFieldsAreStored) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE package_template BETWEEN 21145350 AND 21145357"),
            "300");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages WHERE raw ? 'data_usage_remaining' "
                      "AND jsonb_typeof(raw->'package_template') = 'object'"),
            "300");
}

TEST_F(EndToEnd, PageSizeAboveTheServerLimitFailsNamingPageSize) {
  write_config(sim.base_url(), 5000);  // the simulator, like the API, refuses count > 1000
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "HTTP 400")) << result.err;
  EXPECT_TRUE(contains(result.err, "api.page_size")) << result.err;
}

TEST_F(EndToEnd, UnreachableApiFailsWithoutTouchingTheMirror) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string before = snapshot();
  write_config("http://127.0.0.1:1/api/v1/esim");
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(contains(result.err, "no answer")) << result.err;
  EXPECT_EQ(snapshot(), before);
}
