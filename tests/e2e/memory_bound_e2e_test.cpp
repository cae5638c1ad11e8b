// Memory follows the size of a page, not the number or size of the packages: 600 packages of
// 200 KB each (120 MB of JSON) in pages of 50 stay within the bound docs/performance.md states:
// 40 MiB + concurrency x 5 x the largest page + 32 MiB of queued pages + 24 MiB of staging (the
// COPY batch being built and the two the copy pipe may hold, 8 MiB each).
#include <gtest/gtest.h>

#include "e2e/e2e_fixture.h"

using esim::testing::EndToEnd;
using esim::testing::kSimKey;
using esim::testing::read_file;
using esim::testing::run_command;

class FatPackages : public EndToEnd {
 protected:
  FatPackages() : EndToEnd({"--packages", "600", "--seed", "9", "--package-padding", "200000"}) {
    write_config(sim.base_url(), 50, "  concurrency: 4\n");
  }
};

TEST_F(FatPackages, PeakMemoryStaysWithinTheStatedBound) {
  // The bound is esim-sync's own memory: a sanitizer's shadow memory (and ASan's quarantine of
  // freed blocks) adds several times as much, so only the plain build can measure it.
  if (std::string(ESIM_SANITIZER) != "") {
    GTEST_SKIP() << "peak RSS under the " << ESIM_SANITIZER << " sanitizer measures the sanitizer, not esim-sync";
  }
  auto result = run_command({"/usr/bin/time", "-f", "%M", "-o", dir.file("rss"), ESIM_SYNC_BINARY, "once",
                             "--config", dir.file("config.yaml")},
                            {{"E2E_API_KEY", kSimKey}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(mirror(), sim.truth());
  const double peak_mib = std::stod(read_file(dir.file("rss"))) / 1024.0;
  const double page_mib = 50 * 200000.0 / (1 << 20);
  const double bound_mib = 40 + 4 * 5 * page_mib + 32 + 3 * 8;
  EXPECT_LT(peak_mib, bound_mib) << "peak RSS " << peak_mib << " MiB";
  std::cout << "fat packages: peak RSS " << peak_mib << " MiB (bound " << bound_mib << " MiB)\n";
}
