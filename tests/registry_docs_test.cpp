// docs/metrics.md and docs/checks.md are generated from the registries (`vcpusim metrics
// --markdown`, `vcpusim checks --markdown`): a declaration changed without the page fails here.
#include <gtest/gtest.h>

#include <string>

#include "cli_util.hpp"

using namespace vcpusim;

namespace {

void expect_generated(const std::string& page, const std::string& command) {
  const auto r = test::run_cli({command, "--markdown"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string committed = test::read_file(std::string(VCPUSIM_SOURCE_DIR) + "/" + page);
  EXPECT_TRUE(committed == r.out) << page << " is stale; regenerate it with: build/vcpusim "
                                  << command << " --markdown > " << page;
}

TEST(RegistryDocs, MetricsPageIsTheMetricsMarkdownOutput) {
  expect_generated("docs/metrics.md", "metrics");
}

TEST(RegistryDocs, ChecksPageIsTheChecksMarkdownOutput) {
  expect_generated("docs/checks.md", "checks");
}

}  // namespace
