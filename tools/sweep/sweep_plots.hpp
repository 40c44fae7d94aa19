// The plots of a sweep: each check's violation probability (Wilson 95% bars, and the model's
// closed form when the spec names one) and each chosen metric's mean (95% bars) against the
// first axis, one line per value of the other axes. gnuplot draws them (SVG terminal) from the
// scripts written next to them in DIR/plots, which can be edited and re-run.
#pragma once
#include <string>
#include <vector>

#include "sim/config/config.hpp"

namespace vcpusim::tools {

struct PointSummary;

struct PlotFile {
  std::string title;
  std::string svg;  // path relative to the sweep directory; the file may be missing
  bool drawn = false;
  std::string warning;  // shown next to the plot: where its closed form's assumption fails
};

// In this order: the spec's `plots` (in its order), then each check's violation probability,
// the checks with a violation first and those with none at any point after them.

std::vector<PlotFile> write_plots(const std::string& dir, const sim::Json& plan,
                                  const std::vector<PointSummary>& points, std::string& warnings);

}  // namespace vcpusim::tools
