// Odd and hostile input end to end: odd packages from the API, deep nesting, tricky URLs.
// Each test drives the real binaries (esim-sync, esim-api-sim) and checks what a user sees:
// the mirror's rows, the exit code, stderr.
#include <gtest/gtest.h>

#include <sstream>

#include "e2e/e2e_fixture.h"

using esim::testing::contains;
using esim::testing::EndToEnd;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD, what \u0000 becomes

}  // namespace

class OddPackages : public EndToEnd {
 protected:
  OddPackages() : EndToEnd({"--packages", "150", "--seed", "3", "--odd-packages"}) {}
};

TEST_F(OddPackages, PassSucceedsWithTheOddPackagesMirroredAndNamedInWarnings) {
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "153");

  // Beyond 64 bits: NULL, never a wrapped value; raw keeps the number as sent.
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', coalesce(package_template::text, 'NULL'), "
                      "coalesce(activated_date::text, 'NULL'), raw->>'data_usage_remaining') "
                      "FROM esim.packages WHERE id = 'pkg_odd_numbers'"),
            "NULL,NULL,18446744073709551615");
  EXPECT_TRUE(contains(result.err, "package pkg_odd_numbers: \"package_template\" is 9223372036854775808")) << result.err;
  EXPECT_TRUE(contains(result.err, "package pkg_odd_numbers: \"activated_date\" is 18446744073709551615")) << result.err;

  // \u0000 replaced by U+FFFD in the id, the sim and nested unknown fields; the rest kept.
  EXPECT_EQ(db.scalar("SELECT sim || '|' || (raw->>'note') || '|' || (raw->'extra'->('k' || chr(65533) || 'ey')->>0) "
                      "FROM esim.packages WHERE id = 'pkg_odd_nul' || chr(65533)"),
            "8914800000" + kFffd + "9|a" + kFffd + "b|x" + kFffd);
  EXPECT_TRUE(contains(result.err, "package pkg_odd_nul" + kFffd + ": \"extra\" held \\u0000")) << result.err;

  // An undocumented status is stored as sent.
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'pkg_odd_status'"),
            "X\"} 1\nesim_sync_last_success_timestamp_seconds 4102444800\n# x");
}

class DeepNesting : public EndToEnd {
 protected:
  DeepNesting() : EndToEnd({"--packages", "150", "--seed", "3", "--odd-depth", "200000"}) {}
};

TEST_F(DeepNesting, FailsThePassCleanlyNamingOffsetAndPackage) {
  ASSERT_EQ(esim_sync("migrate").exit_code, 0);
  auto result = esim_sync("once");
  EXPECT_EQ(result.exit_code, 1) << result.err;  // -1 would mean killed by a signal
  EXPECT_TRUE(contains(result.err, "page at offset 100: package #50 (id pkg_odd_deep) field \"deep\" nests deeper "
                                   "than 64 levels"))
      << result.err.substr(0, 2000);
  EXPECT_EQ(db.scalar("SELECT status || ': ' || left(error, 30) FROM esim.sync_runs"),
            "failed: page at offset 100: package #5");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM esim.packages"), "0");
}
