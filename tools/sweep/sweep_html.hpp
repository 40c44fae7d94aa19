// DIR/index.html of a sweep: one self-contained page (plots inlined, no network fetches) with the
// sweep's spec, the plots and the per-point table; each point gives the command that re-runs it.
#pragma once
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tools/sweep/sweep_plots.hpp"

namespace vcpusim::tools {

struct PointSummary;

std::string render_sweep_html(const std::string& dir, const sim::Json& plan,
                              const std::vector<PointSummary>& points,
                              const std::vector<std::string>& metrics,
                              const std::vector<PlotFile>& plots);

}  // namespace vcpusim::tools
