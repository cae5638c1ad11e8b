// A pass finds changed packages by a fingerprint of the JSON text the API sent. A server that
// writes the same packages another way (after a deploy: key order, whitespace, 1761330317000.0
// for 1761330317000) changes every fingerprint and nothing else: no package may be reported
// updated, and no history or version may be written for it.
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;

namespace {

const char* kHistoryAndVersions =
    "SELECT (SELECT count(*) FROM esim.package_status_history) + (SELECT count(*) FROM esim.package_versions)";
const char* kRowVersions = "SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM esim.packages";

}  // namespace

TEST_F(EndToEnd, TheSameJsonWrittenAnotherWayChangesNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const int history_before = count(kHistoryAndVersions);
  const auto mirror_before = mirror();

  ASSERT_EQ(sim.post("/_sim/listing?style=restyled"), 200);
  auto restyled = esim_sync("once");
  ASSERT_EQ(restyled.exit_code, 0) << restyled.err;
  EXPECT_EQ(last_run("updated"), "0");
  EXPECT_EQ(last_run("inserted"), "0");
  EXPECT_EQ(count(kHistoryAndVersions), history_before);
  EXPECT_EQ(mirror(), mirror_before);

  // The new fingerprints were kept: the next pass over the same text writes nothing at all.
  const std::string rows_before = db.scalar(kRowVersions);
  auto quiet = esim_sync("once");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(db.scalar(kRowVersions), rows_before);
}

// Real changes still show through a restyle: each moved package is updated once, with its
// transition, and the mirror matches the simulator.
TEST_F(EndToEnd, RealChangesShowThroughARestyle) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(sim.post("/_sim/listing?style=restyled"), 200);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.2"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_EQ(falsely_removed(), "");
  const int transitions = count("SELECT count(*) FROM esim.package_status_history "
                                "WHERE old_status IS NOT NULL AND new_status IS NOT NULL");
  EXPECT_GT(transitions, 0);
  EXPECT_EQ(last_run("status_changes"), std::to_string(transitions));
  // A version for each package rewritten or removed, none for the restyle.
  EXPECT_EQ(std::stoi(last_run("updated")) + std::stoi(last_run("removed")),
            count("SELECT count(*) FROM esim.package_versions"));
}
