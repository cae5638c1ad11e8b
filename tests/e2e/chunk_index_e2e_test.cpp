// What a pass sends PostgreSQL (issue 24): over an unchanged listing, the chunks' digests alone,
// a few percent of the listing's bytes; and a server that starts listing in another order (the
// same packages, every page different) costs one pass that sends every id, changes nothing, and
// leaves the next pass as cheap as before. Measured by the run rows' own counts (TCP's).
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;

namespace {

class ChunkIndexEndToEnd : public EndToEnd {
 protected:
  ChunkIndexEndToEnd() : EndToEnd({"--packages", "20000", "--seed", "24"}) {}

  // The last run's bytes sent to PostgreSQL, as a share of the listing's bytes.
  double sent_share() {
    const double listing = std::stod(last_run("listing_bytes"));
    EXPECT_GT(listing, 20000 * 100.0) << "the run did not record the listing's bytes";
    return std::stod(last_run("bytes_to_database")) / listing;
  }
};

}  // namespace

TEST_F(ChunkIndexEndToEnd, AnUnchangedListingSendsItsDigestsAlone) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_GT(sent_share(), 1.0) << "a first load sends every package whole";
  auto again = esim_sync("once");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(last_run("unchanged"), "20000");
  EXPECT_LT(sent_share(), 0.05);

  ASSERT_EQ(sim.post("/_sim/step?fraction=0.01"), 200);
  auto churned = esim_sync("once");
  ASSERT_EQ(churned.exit_code, 0) << churned.err;
  EXPECT_EQ(mirror(), sim.truth());
  EXPECT_LT(sent_share(), 0.10) << "1% churn sends the changed chunks' ids and the changes whole";
}

TEST_F(ChunkIndexEndToEnd, ANewSortOrderCostsOnePassAndChangesNothing) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const auto mirror_before = mirror();
  const int history_before = count("SELECT count(*) FROM esim.package_status_history");

  ASSERT_EQ(sim.post("/_sim/listing?order=oldest_first"), 200);
  auto reordered = esim_sync("once");
  ASSERT_EQ(reordered.exit_code, 0) << reordered.err;
  EXPECT_EQ(last_run("unchanged"), "20000");
  EXPECT_EQ(last_run("removed"), "0");
  EXPECT_EQ(mirror(), mirror_before);
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_status_history"), history_before);
  const double reorder_share = sent_share();
  EXPECT_GT(reorder_share, 0.05) << "every chunk is new: every id is sent";
  EXPECT_LT(reorder_share, 0.25) << "but no package whole";

  auto settled = esim_sync("once");
  ASSERT_EQ(settled.exit_code, 0) << settled.err;
  EXPECT_LT(sent_share(), 0.05);
}
