// Odd and hostile input end to end: odd packages from the API, deep nesting, tricky URLs.
// Each test drives the real binaries (esim-sync, esim-api-sim) and checks what a user sees:
// the mirror's rows, the exit code, stderr.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "e2e/daemon_fixture.h"

using esim::testing::BackgroundProcess;
using esim::testing::contains;
using esim::testing::EndToEnd;
using esim::testing::eventually;
using esim::testing::status_of;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD, what \u0000 becomes
const std::string kForgedLine = "esim_sync_last_success_timestamp_seconds 4102444800";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

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

  // An undocumented status is stored as sent, and its warning stays on one log line.
  EXPECT_EQ(db.scalar("SELECT status FROM esim.packages WHERE id = 'pkg_odd_status'"),
            "X\"} 1\n" + kForgedLine + "\n# x");
  EXPECT_TRUE(contains(result.err, "package pkg_odd_status has status \"X\"} 1\\n" + kForgedLine)) << result.err;
  for (const auto& line : lines_of(result.err)) {
    EXPECT_NE(line.rfind("esim_sync_", 0), 0u) << line;
    EXPECT_NE(line, "# x\" which Betatel does not document; stored as sent");
  }
}

TEST_F(OddPackages, AForgedStatusAddsNoSampleToMetrics) {
  const int port = esim::testing::free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  dir.write("config.yaml", read_file(dir.file("config.yaml")) + "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  BackgroundProcess daemon({ESIM_SYNC_BINARY, "run", "--config", dir.file("config.yaml")}, dir.file("run.log"),
                           {{"E2E_API_KEY", kSimKey}});
  ASSERT_TRUE(eventually([&] { return status_of(base + "/healthz") == 200; })) << read_file(dir.file("run.log.err"));

  std::string metrics;
  ASSERT_EQ(esim::testing::http_get(base + "/metrics", &metrics), 200);
  for (const auto& line : lines_of(metrics)) EXPECT_EQ(line.find("4102444800"), std::string::npos) << line;
  EXPECT_TRUE(contains(metrics, "esim_sync_packages{status=\"other\"} 1\n")) << metrics;
  dir.write("metrics.txt", metrics);
  auto promtool = run_command({"/bin/sh", "-c", "promtool check metrics < " + dir.file("metrics.txt")});
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
  EXPECT_EQ(daemon.terminate(), 0);
}

TEST_F(OddPackages, FetchTableKeepsOnePackageARow) {
  auto result = run_command({ESIM_SYNC_BINARY, "fetch", "--all", "--format", "table", "--config", dir.file("config.yaml")},
                            {{"E2E_API_KEY", kSimKey}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines_of(result.out).size(), 1u + 153u) << result.out;  // the header and one row each
  EXPECT_TRUE(contains(result.out, "X\"} 1\\nesim_sync_last")) << result.out;
  EXPECT_TRUE(contains(result.err, "package pkg_odd_numbers: \"package_template\"")) << result.err;
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

TEST(UrlRules, CheckConfigRefusesUrlTricksAndUserinfoWithExit3) {
  esim::testing::TempDir dir;
  for (const std::string url : {"http://127.0.0.1.evil.example/api/v1/esim", "http://evil.example#@127.0.0.1/api/v1/esim",
                                "http://evil.example?@localhost/api/v1/esim", "https://reseller:pw-in-url-77@esim.example/api"}) {
    dir.write("c.yaml", "api:\n  api_key: ${K}\n  user_id: u\n  base_url: \"" + url + "\"\ndatabase:\n  url: x\n");
    auto result = run_command({ESIM_SYNC_BINARY, "check-config", "--config", dir.file("c.yaml")}, {{"K", "key-123456"}});
    EXPECT_EQ(result.exit_code, 3) << url << "\n" << result.out;
    EXPECT_TRUE(contains(result.err, "c.yaml:4: api.base_url: ")) << result.err;
    EXPECT_FALSE(contains(result.out + result.err, "pw-in-url-77")) << result.err;
  }
}

TEST_F(OddPackages, StatusKeepsAForgedStatusOnItsLine) {
  ASSERT_EQ(esim_sync("once").exit_code, 0);
  auto result = esim_sync("status");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "X\"} 1\\n" + kForgedLine + "\\n# x 1")) << result.out;
  for (const auto& line : lines_of(result.out)) EXPECT_NE(line.rfind("esim_sync_", 0), 0u) << result.out;
}

// "Never expires" as the largest 64-bit integer, and a date long before 1970: the package is
// mirrored with an infinite date (raw keeps the number), and a warning names id and field.
class OddDates : public EndToEnd {
 protected:
  OddDates() : EndToEnd({"--packages", "150", "--seed", "3", "--odd-dates"}) {}
};

TEST_F(OddDates, DatesBeyondTimestamptzAreStoredAsInfinity) {
  auto result = esim_sync("once");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(db.scalar("SELECT concat_ws(',', expiry_date::text, created_date::text, raw->>'expiry_date') "
                      "FROM esim.packages WHERE id = 'pkg_odd_dates'"),
            "infinity,-infinity,9223372036854775807");
  EXPECT_TRUE(contains(result.err, "package pkg_odd_dates: \"expiry_date\" is 9223372036854775807, beyond what "
                                   "timestamptz holds; stored as infinity"))
      << result.err;
  EXPECT_EQ(mirror().size(), 151u);
}
