// The version a dashboard shows is the one CMake's project() gave the build (the .deb and
// --version report the same; tests/packaging checks those).
#include <gtest/gtest.h>

#include "service/metrics.h"

TEST(BuildInfo, MetricsReportTheProjectVersion) {
  const std::string text = esim::Metrics().render();
  EXPECT_NE(text.find("# TYPE esim_sync_build_info gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("esim_sync_build_info{version=\"" ESIM_PROJECT_VERSION "\"} 1\n"), std::string::npos) << text;
}
