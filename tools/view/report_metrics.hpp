// The report's metrics section: grouped by the component that declares them (the metric
// registry, sim/record/metric_registry.hpp), each value in its unit with a readable scale (ns as us
// or ms when large), and each summary metric (count, min, p50, p99, max) as one row with a small
// SVG of its quantiles and one of its histogram on a logarithmic axis instead of five raw rows.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace vcpusim::tools {

// `metrics`: the "metrics" object of a result file (run --json); names the registry does not
// know (an older file) are listed under "other". `histograms`: its "histograms" object (absent
// from an older file: then no histogram is drawn).
std::string render_metrics_html(const nlohmann::json& metrics, const nlohmann::json& histograms);

// A value in its unit: "1.235 ms" for 1234567 ns, "6,939" for a count, "0.3144" for a fraction.
std::string format_metric_value(double value, const std::string& unit);

}  // namespace vcpusim::tools
