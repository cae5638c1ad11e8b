// `esim-sync fetch` against the simulator: filters, paging and both output formats.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
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

// What a terminal shows of what was written to it: \r goes back to the start of the line and
// what follows overwrites it (trailing blanks, left by erasing, dropped).
std::vector<std::string> as_terminal_shows(const std::string& written) {
  std::vector<std::string> screen(1);
  std::size_t column = 0;
  for (char c : written) {
    std::string& line = screen.back();
    if (c == '\n') {
      screen.emplace_back();
      column = 0;
    } else if (c == '\r') {
      column = 0;
    } else {
      if (column < line.size()) line[column] = c; else line.push_back(c);
      ++column;
    }
  }
  for (auto& line : screen) line.erase(line.find_last_not_of(' ') + 1);
  return screen;
}

}  // namespace

class Fetch : public EndToEnd {
 protected:
  explicit Fetch(std::vector<std::string> sim_args = {"--packages", "730", "--seed", "3"})
      : EndToEnd(std::move(sim_args)) {}

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

// `fetch --all` keeps api.concurrency requests in flight and still prints the listing in
// listing order, as one request at a time does. The simulator answers each request after
// 20 ms, so the requests of a concurrent walk overlap there, where it counts them.
class ConcurrentFetch : public Fetch {
 protected:
  ConcurrentFetch() : Fetch({"--packages", "2345", "--seed", "5", "--latency-ms", "20"}) {}

  esim::testing::RunResult fetch_with(int concurrency, const std::vector<std::string>& args) {
    write_config(sim.base_url(), 100, "  concurrency: " + std::to_string(concurrency) + "\n");
    return fetch(args);
  }

  // The summary line, without the debug log lines around it.
  static std::string summary(const std::string& err) {
    for (const auto& line : lines(err)) {
      if (line.find("packages shown;") != std::string::npos) return line;
    }
    return "";
  }
};

TEST_F(ConcurrentFetch, PrintsEveryPackageOnceInTheOrderOfOneRequestAtATime) {
  auto one = fetch_with(1, {"--all", "--count", "100"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(sim.most_in_flight(), 1);
  auto four = fetch_with(4, {"--all", "--count", "100"});
  ASSERT_EQ(four.exit_code, 0) << four.err;
  EXPECT_GE(sim.most_in_flight(), 2) << "the requests never overlapped";
  EXPECT_LE(sim.most_in_flight(), 4);

  EXPECT_EQ(four.out, one.out);  // byte for byte: the same packages in the same order
  std::vector<std::string> ids;
  for (const auto& line : lines(four.out)) ids.push_back(nlohmann::json::parse(line)["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 2345u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "a package came twice";
  std::set<std::string> truth;
  for (const auto& [id, status] : sim.truth()) truth.insert(id);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), truth);
  EXPECT_EQ(summary(four.err), "2345 packages shown; 2345 match the filters");
}

// --offset starts the walk further on, and filters narrow it, concurrently as sequentially.
TEST_F(ConcurrentFetch, OffsetFiltersAndTableGiveWhatOneRequestAtATimeGives) {
  const std::vector<std::vector<std::string>> cases = {
      {"--all", "--count", "100", "--offset", "250"},
      {"--all", "--count", "50", "--status", "ACTIVE", "--format", "table"},
      {"--all", "--count", "100", "--offset", "2300"},  // one short page
  };
  for (const auto& args : cases) {
    const std::string name = fmt::format("{}", fmt::join(args, " "));
    auto one = fetch_with(1, args);
    auto four = fetch_with(4, args);
    ASSERT_EQ(one.exit_code, 0) << name << "\n" << one.err;
    ASSERT_EQ(four.exit_code, 0) << name << "\n" << four.err;
    EXPECT_FALSE(one.out.empty()) << name;
    EXPECT_EQ(four.out, one.out) << name;
    EXPECT_EQ(summary(four.err), summary(one.err)) << name;
  }
  EXPECT_EQ(lines(fetch_with(4, cases[0]).out).size(), 2345u - 250u);
}

// stderr is no terminal here (a pipe): no progress line, nothing but what was there before.
TEST_F(ConcurrentFetch, NoProgressLineWhenStderrIsNoTerminal) {
  auto result = fetch_with(4, {"--all"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find('\r'), std::string::npos);
  EXPECT_EQ(result.err.find("fetched "), std::string::npos) << result.err;
}

// On a terminal: a live line on stderr, redrawn in place, its final figures left above the
// summary, a retry's warning on a line of its own above it, and stdout (the data) untouched.
TEST_F(ConcurrentFetch, ProgressLineOnATerminalWithTheDataUntouched) {
  const std::string script = "/usr/bin/script";  // util-linux, in every Debian
  if (access(script.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << script << " to make a terminal";
  auto plain = fetch_with(1, {"--all"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  write_config(sim.base_url(), 100, "  concurrency: 4\n");
  ASSERT_EQ(sim.post("/_sim/fail?after=8&times=1&status=503"), 200);  // one retry mid-walk
  // script(1) runs the command on a new terminal and copies what it writes there to its own
  // stdout. stdout goes to a file, so stderr alone is on the terminal.
  const std::string data = dir.file("out.jsonl");
  auto terminal = run_command({script, "-qefc",
                               std::string(ESIM_SYNC_BINARY) + " fetch --all --config " + dir.file("config.yaml") +
                                   " > " + data,
                               "/dev/null"},
                              {{"E2E_API_KEY", kSimKey}});
  ASSERT_EQ(terminal.exit_code, 0) << terminal.out << terminal.err;

  EXPECT_EQ(esim::testing::read_file(data), plain.out);
  EXPECT_NE(terminal.out.find("\rfetched "), std::string::npos) << "not drawn in place";
  const auto screen = as_terminal_shows(terminal.out);
  std::vector<std::string> progress, warnings;
  for (const auto& line : screen) {
    if (line.find("fetched ") != std::string::npos) progress.push_back(line);
    if (line.find("retrying in") != std::string::npos) warnings.push_back(line);
  }
  // One line of figures is left, the last; each earlier drawing was overwritten in place.
  ASSERT_EQ(progress.size(), 1u) << terminal.out;
  // 24 pages of packages, and the empty one that says the listing ended there.
  EXPECT_EQ(progress[0].rfind("fetched 2345 of 2345 packages, 25 pages, ", 0), 0u) << progress[0];
  EXPECT_NE(progress[0].find(" packages/s"), std::string::npos) << progress[0];
  const auto at = std::find(screen.begin(), screen.end(), progress[0]);
  ASSERT_NE(at + 1, screen.end());
  EXPECT_EQ(*(at + 1), "2345 packages shown; 2345 match the filters");
  // The warning has a line of its own: no figures before it or after it.
  ASSERT_EQ(warnings.size(), 1u) << terminal.out;
  EXPECT_EQ(warnings[0].find("fetched"), std::string::npos) << warnings[0];
}
