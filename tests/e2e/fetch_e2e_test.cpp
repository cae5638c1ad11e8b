// `esim-sync fetch` against the simulator: filters, paging and both output formats.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::run_command;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

class Fetch : public EndToEnd {
 protected:
  Fetch() : EndToEnd({"--packages", "730", "--seed", "3"}) {}

  esim::testing::RunResult fetch(std::vector<std::string> args, const std::string& key = kSimKey) {
    std::vector<std::string> argv = {ESIM_SYNC_BINARY, "fetch", "--config", dir.file("config.yaml")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, {{"E2E_API_KEY", key}});
  }
};

TEST_F(Fetch, AllPagesAsJsonLinesMatchTheListing) {
  auto result = fetch({"--all", "--count", "100"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::set<std::string> ids;
  for (const auto& line : lines(result.out)) ids.insert(nlohmann::json::parse(line)["id"].get<std::string>());
  std::set<std::string> truth;
  for (const auto& [id, status] : sim.truth()) truth.insert(id);
  EXPECT_EQ(ids, truth);
  EXPECT_NE(result.err.find("730 packages shown"), std::string::npos) << result.err;
}

TEST_F(Fetch, StatusFilterAsATable) {
  auto result = fetch({"--all", "--status", "SUSPENDED", "--format", "table"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].rfind("ID", 0), 0u);  // header
  std::size_t suspended = 0;
  for (const auto& [id, status] : sim.truth()) suspended += status == "SUSPENDED";
  EXPECT_EQ(rows.size() - 1, suspended);
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_NE(rows[i].find(" SUSPENDED "), std::string::npos) << rows[i];
}

TEST_F(Fetch, OneSimOnePackage) {
  auto result = fetch({"--sim", "89148000000000000042"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto rows = lines(result.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(rows[0])["id"], "pkg_00000042");
}

TEST_F(Fetch, OffsetAndCountGiveOnePage) {
  auto result = fetch({"--offset", "725", "--count", "50"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines(result.out).size(), 5u);
}

TEST_F(Fetch, WrongKeyFailsWithoutShowingIt) {
  auto result = fetch({"--all"}, "not-the-key-987");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("HTTP 401"), std::string::npos) << result.err;
  EXPECT_EQ((result.out + result.err).find("not-the-key-987"), std::string::npos);
}

TEST_F(Fetch, UnknownFormatIsAUsageError) {
  EXPECT_EQ(fetch({"--format", "xml"}).exit_code, 2);
}
