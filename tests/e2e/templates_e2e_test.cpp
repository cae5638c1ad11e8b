// The plan catalogue mirrored with the packages: both published shapes, versions and change
// events, removal only after two complete walks lack a template, and a plan packages carry
// that the catalogue lacks is flagged, never invented.
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::read_file;

class Templates : public EndToEnd {
 protected:
  Templates() : EndToEnd({"--packages", "300", "--seed", "5"}) {}
};

TEST_F(Templates, MirroredInBothShapesWithVersionsEventsAndRemovalOnlyAfterTwoWalks) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  // The REST documentation's shape: no status; price, currency and the rest kept in raw.
  EXPECT_EQ(db.scalar("SELECT string_agg(id || '=' || name || ':' || coalesce(status, '-') || ':' || (raw ->> 'currency'), "
                      "', ' ORDER BY id) FROM esim.package_templates WHERE id IN (21145350, 21145356)"),
            "21145350=Europe 1 GB:-:EUR, 21145356=Europe 7 GB:-:EUR");
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_templates"), 7);
  EXPECT_EQ(last_run("templates_seen"), "7");
  // Packages carry 21145357 too, which the catalogue does not list: flagged, never invented.
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_templates WHERE id = 21145357"), 0);
  EXPECT_EQ(db.scalar("SELECT plan_name || ':' || in_catalogue FROM esim.plans WHERE package_template = 21145357"),
            "template 21145357 (not in catalogue):false");
  EXPECT_EQ(count("SELECT count(*) FROM esim.change_events WHERE entity = 'template' AND kind = 'inserted'"), 7);

  // The SDK's shape: a status now, other fields; every template changed, its old row a version.
  ASSERT_EQ(sim.post("/_sim/templates?shape=sdk"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT string_agg(id || '=' || status, ', ' ORDER BY id) FROM esim.package_templates "
                      "WHERE id IN (21145350, 21145355, 21145356)"),
            "21145350=Active, 21145355=Not Active, 21145356=De-activated");
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_template_versions"), 7);
  EXPECT_EQ(count("SELECT count(*) FROM esim.change_events WHERE entity = 'template' AND kind = 'status_changed' "
                  "AND run_id = (SELECT max(id) FROM esim.sync_runs)"),
            7);

  // A rename is a field change with its version.
  ASSERT_EQ(sim.post("/_sim/templates/21145351/rename?name=Europe%20Plus"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT kind || ':' || array_to_string(fields, ',') FROM esim.change_events "
                      "WHERE entity = 'template' AND run_id = (SELECT max(id) FROM esim.sync_runs)"),
            "field_changed:name");
  EXPECT_EQ(db.scalar("SELECT plan_name FROM esim.plans WHERE package_template = 21145351"), "Europe Plus");

  // Gone from the catalogue: the first complete walk that lacks it only remembers it; the
  // second removes it (its packages keep their plan, flagged as no longer in the catalogue).
  ASSERT_EQ(sim.post("/_sim/templates/21145352/hide"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT removed_at IS NULL FROM esim.package_templates WHERE id = 21145352"), "t");
  EXPECT_EQ(count("SELECT count(*) FROM esim.template_removal_candidates"), 1);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT removed_at IS NOT NULL FROM esim.package_templates WHERE id = 21145352"), "t");
  EXPECT_EQ(db.scalar("SELECT kind FROM esim.change_events WHERE entity = 'template' AND entity_id = '21145352' "
                      "ORDER BY change_id DESC LIMIT 1"),
            "removed");
  EXPECT_EQ(db.scalar("SELECT in_catalogue::text FROM esim.plans WHERE package_template = 21145352"), "false");
  // And back: returned, a version of its removed row kept.
  ASSERT_EQ(sim.post("/_sim/templates/21145352/unhide"), 200);
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  EXPECT_EQ(db.scalar("SELECT kind FROM esim.change_events WHERE entity = 'template' AND entity_id = '21145352' "
                      "ORDER BY change_id DESC LIMIT 1"),
            "returned");
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_template_versions WHERE template_id = 21145352 AND NOT listed"), 1);
}

TEST_F(Templates, NotWalkedWhenSwitchedOffOrNotDue) {
  dir.write("config.yaml", read_file(dir.file("config.yaml")) + "sync:\n  templates_every: 2\n");
  ASSERT_EQ(esim_sync("once").exit_code, 0);  // run 1: not due
  EXPECT_EQ(last_run("templates_seen"), "-");
  EXPECT_EQ(count("SELECT count(*) FROM esim.package_templates"), 0);
  ASSERT_EQ(esim_sync("once").exit_code, 0);  // run 2
  EXPECT_EQ(last_run("templates_seen"), "7");
}

TEST_F(Templates, ACatalogueThatCannotBeReadLeavesAWarningAndThePackagesApplied) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  const std::string before = db.scalar("SELECT string_agg(id || name, ',' ORDER BY id) FROM esim.package_templates");
  ASSERT_EQ(sim.post("/_sim/templates?fail=404"), 200);
  ASSERT_EQ(sim.post("/_sim/step?fraction=0.2"), 200);
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(last_run("status"), "succeeded");
  EXPECT_NE(last_run("warning").find("the plan catalogue was not read: GET "), std::string::npos) << last_run("warning");
  EXPECT_NE(last_run("warning").find("HTTP 404"), std::string::npos);
  EXPECT_EQ(last_run("templates_seen"), "-");
  EXPECT_GT(std::stoi(last_run("status_changes")), 0);  // the packages were applied
  EXPECT_EQ(db.scalar("SELECT string_agg(id || name, ',' ORDER BY id) FROM esim.package_templates"), before);
  EXPECT_EQ(count("SELECT count(*) FROM esim.template_removal_candidates"), 0);
}
