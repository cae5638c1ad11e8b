#include "cli/progress_line.h"

#include <gtest/gtest.h>

#include <sstream>

using esim::ProgressLine;
using std::chrono::milliseconds;

namespace {

const ProgressLine::Clock::time_point kStart{};

ProgressLine::Clock::time_point at(int ms) { return kStart + milliseconds(ms); }

}  // namespace

TEST(ProgressText, NamesPackagesTotalPagesAndRate) {
  EXPECT_EQ(esim::progress_text(1200, 12, 300000, 0.5), "fetched 1200 of 300000 packages, 12 pages, 2400 packages/s");
  EXPECT_EQ(esim::progress_text(100, 1, -1, 0), "fetched 100 packages, 1 page");
}

// Scripts and tests read stderr: without a terminal, not one byte more.
TEST(ProgressLine, DisabledWritesNothing) {
  std::ostringstream out;
  ProgressLine line(out, false, kStart);
  line.update(100, 1, 730, at(10));
  bool wrote = false;
  line.interrupt([&] { wrote = true; });
  line.finish(at(20));
  EXPECT_TRUE(wrote);
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressLine, DrawsInPlaceAtMostEveryFifthOfASecond) {
  std::ostringstream out;
  ProgressLine line(out, true, kStart);
  line.update(100, 1, 730, at(100));
  EXPECT_EQ(out.str(), "\rfetched 100 of 730 packages, 1 page, 1000 packages/s");
  line.update(200, 2, 730, at(150));
  line.update(300, 3, 730, at(299));
  EXPECT_EQ(out.str().find("300 of"), std::string::npos) << "redrawn too soon";
  line.update(400, 4, 730, at(300));
  EXPECT_NE(out.str().find("\rfetched 400 of 730 packages, 4 pages, 1333 packages/s"), std::string::npos);
}

TEST(ProgressLine, AShorterLineCoversTheLongerOneBeforeIt) {
  std::ostringstream out;
  ProgressLine line(out, true, kStart);
  line.update(100000, 1000, 100000, at(1));
  const std::size_t longer = out.str().size() - 1;  // without its \r
  out.str("");
  line.update(5, 1, 5, at(1000));  // the listing shrank
  EXPECT_EQ(out.str().size() - 1, longer);
  EXPECT_EQ(out.str().rfind("\rfetched 5 of 5 packages, 1 page, 5 packages/s ", 0), 0u) << out.str();
}

// A log line (or the data, on the same terminal) goes above the progress line, whole.
TEST(ProgressLine, InterruptErasesWritesAndDrawsAgain) {
  std::ostringstream out;
  ProgressLine line(out, true, kStart);
  line.update(100, 1, 730, at(1000));
  const std::string drawn = "fetched 100 of 730 packages, 1 page, 100 packages/s";
  out.str("");
  line.interrupt([&] { out << "a warning\n"; });
  EXPECT_EQ(out.str(), "\r" + std::string(drawn.size(), ' ') + "\ra warning\n\r" + drawn);
}

TEST(ProgressLine, FinishLeavesTheFinalFiguresOnALineOfTheirOwn) {
  std::ostringstream out;
  ProgressLine line(out, true, kStart);
  line.update(100, 1, 730, at(100));
  line.update(730, 8, 730, at(200));  // too soon to draw...
  line.finish(at(500));               // ...but the end always shows
  EXPECT_NE(out.str().find("\rfetched 730 of 730 packages, 8 pages, 1460 packages/s\n"), std::string::npos)
      << out.str();
  const std::string before = out.str();
  line.finish(at(600));
  line.update(800, 9, 730, at(900));
  EXPECT_EQ(out.str(), before);
}

TEST(ProgressLine, FinishBeforeAnyPageLeavesNoLine) {
  std::ostringstream out;
  ProgressLine line(out, true, kStart);
  line.finish(at(100));
  EXPECT_EQ(out.str(), "");
}
