#include "tools/view/report_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

#include "guest/registries.hpp"
#include "sim/record/metric_registry.hpp"
#include "tools/view/html_text.hpp"

namespace vcpusim::tools {
namespace {

std::string digits(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Thousands separated by commas, for counts.
std::string grouped(double v) {
  std::string s = digits(std::fabs(v), 0);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return (v < 0 ? "-" : "") + s;
}

struct Summary {
  std::string unit, doc;
  std::map<std::string, double> parts;  // count, min, p50, p99, max
};

// The quantiles on a log axis from 0 to the maximum: the whisker min..max, the box p50..p99.
std::string quantile_svg(const Summary& s) {
  auto at = [&s](const char* k) { return s.parts.count(k) ? s.parts.at(k) : 0.0; };
  const double most = std::max(at("max"), 1.0);
  auto x = [most](double v) {
    return html_number(4 + 192 * std::log10(1 + std::max(v, 0.0)) / std::log10(1 + most));
  };
  std::ostringstream h;
  h << "<svg class=\"quantiles\" width=\"200\" height=\"18\" viewBox=\"0 0 200 18\"><title>"
    << "min " << html_escape(format_metric_value(at("min"), s.unit)) << ", p50 "
    << html_escape(format_metric_value(at("p50"), s.unit)) << ", p99 "
    << html_escape(format_metric_value(at("p99"), s.unit)) << ", max "
    << html_escape(format_metric_value(at("max"), s.unit)) << " (log scale)</title>"
    << "<line x1=\"" << x(at("min")) << "\" x2=\"" << x(at("max"))
    << "\" y1=\"9\" y2=\"9\" stroke=\"#555\"/>"
    << "<rect x=\"" << x(at("p50")) << "\" y=\"3\" width=\""
    << html_number(std::max(1.5, std::stod(x(at("p99"))) - std::stod(x(at("p50")))))
    << "\" height=\"12\" fill=\"#5b8fd4\"/>"
    << "<line x1=\"" << x(at("p50")) << "\" x2=\"" << x(at("p50"))
    << "\" y1=\"2\" y2=\"16\" stroke=\"#123\" stroke-width=\"2\"/>"
    << "<line x1=\"" << x(at("max")) << "\" x2=\"" << x(at("max"))
    << "\" y1=\"4\" y2=\"14\" stroke=\"#c0392b\" stroke-width=\"2\"/></svg>";
  return h.str();
}

// The distribution as a histogram: one bar per bin of the result's "histograms" (log-spaced
// bins, sim::Samples::histogram), bar heights on a linear count scale, bins placed on a log axis
// like the strip; the p50 and p99 as ticks. Each bar's title gives its range and count.
std::string histogram_svg(const Summary& s, const nlohmann::json& bins) {
  auto at = [&s](const char* k) { return s.parts.count(k) ? s.parts.at(k) : 0.0; };
  double most = 1, tallest = 1;
  for (const auto& b : bins) {
    most = std::max(most, b.at(1).get<double>() + 1);
    tallest = std::max(tallest, b.at(2).get<double>());
  }
  auto x = [most](double v) { return 4 + 192 * std::log10(1 + std::max(v, 0.0)) / std::log10(1 + most); };
  std::ostringstream h;
  h << "<svg class=\"histogram\" width=\"200\" height=\"40\" viewBox=\"0 0 200 40\"><title>"
    << bins.size() << " bins of " << html_escape(format_metric_value(at("count"), "samples"))
    << " samples (log axis)</title>";
  for (const auto& b : bins) {
    const double lo = b.at(0).get<double>(), hi = b.at(1).get<double>(), n = b.at(2).get<double>();
    const double x0 = x(lo), x1 = std::max(x(hi + 1), x0 + 1.0), height = 2 + 34 * n / tallest;
    h << "<rect x=\"" << html_number(x0) << "\" y=\"" << html_number(38 - height) << "\" width=\""
      << html_number(x1 - x0) << "\" height=\"" << html_number(height) << "\" fill=\"#5b8fd4\"><title>"
      << html_escape(format_metric_value(lo, s.unit)) << " .. "
      << html_escape(format_metric_value(hi, s.unit)) << ": "
      << html_escape(format_metric_value(n, "samples")) << "</title></rect>";
  }
  for (const char* q : {"p50", "p99"})
    h << "<line x1=\"" << html_number(x(at(q))) << "\" x2=\"" << html_number(x(at(q)))
      << "\" y1=\"0\" y2=\"40\" stroke=\"" << (q[1] == '5' ? "#123" : "#c0392b")
      << "\" stroke-dasharray=\"2,2\"><title>" << q << " "
      << html_escape(format_metric_value(at(q), s.unit)) << "</title></line>";
  h << "</svg>";
  return h.str();
}

}  // namespace

std::string format_metric_value(double v, const std::string& unit) {
  if (unit == "ns") {
    const double a = std::fabs(v);
    if (a >= 1e9) return digits(v / 1e9, 3) + " s";
    if (a >= 1e6) return digits(v / 1e6, 3) + " ms";
    if (a >= 1e4) return digits(v / 1e3, 2) + " us";
    return grouped(v) + " ns";
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return grouped(v) + (unit == "count" || unit == "samples" || unit == "fraction" || unit.empty()
                             ? ""
                             : " " + unit);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return std::string(buf) + (unit.empty() || unit == "fraction" ? "" : " " + unit);
}

std::string render_metrics_html(const nlohmann::json& metrics, const nlohmann::json& histograms) {
  const sim::MetricRegistry& registry = guest::builtin_registries().metrics;
  std::vector<std::string> groups;  // in the registry's order
  for (const auto& m : registry.entries())
    if (std::find(groups.begin(), groups.end(), m.group) == groups.end()) groups.push_back(m.group);
  groups.push_back("other");
  struct Plain {
    std::string name, value, unit, doc;
  };
  std::map<std::string, std::vector<Plain>> plain;
  std::map<std::string, std::map<std::string, Summary>> summaries;  // group -> base name
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    const std::string& name = it.key();
    const auto found = sim::resolve_metric(registry, name);
    const sim::MetricMatch* m = found.size() == 1 ? &found[0] : nullptr;
    const std::string group = m ? m->spec->group : "other";
    if (m && !m->part.empty() && it->is_number()) {
      Summary& s = summaries[group][name.substr(0, name.size() - m->part.size() - 1)];
      s.unit = m->spec->unit;
      s.doc = m->spec->doc;
      s.parts[m->part] = it->get<double>();
      continue;
    }
    const std::string unit = m ? m->unit() : "";
    plain[group].push_back(
        {name,
         it->is_number() ? format_metric_value(it->get<double>(), unit)
                         : it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
         unit, m ? m->spec->doc : ""});
  }
  std::ostringstream h;
  h << "<h2>Metrics</h2>\n<p>By the component that counts them (<code>vcpusim metrics</code> "
       "lists each); a latency or other sampled metric is one row: its samples, quantiles, a "
       "strip of them on a log axis (line min to max, box p50 to p99, red tick the maximum) and "
       "its histogram on the same axis (four bins to each power of two, dashed p50 and p99).</p>\n";
  for (const std::string& g : groups) {
    if (!plain.count(g) && !summaries.count(g)) continue;
    h << "<h3 class=\"metric-group\">" << html_escape(g) << "</h3>\n";
    if (summaries.count(g)) {
      h << "<table class=\"summaries\"><tr><th>metric</th><th>samples</th><th>min</th><th>p50</th>"
           "<th>p99</th><th>max</th><th>quantiles</th><th>histogram</th></tr>\n";
      for (const auto& entry : summaries[g]) {
        // Named references, not a structured binding: C++17 lambdas cannot capture a binding
        // (clang refuses it; gcc accepts it as an extension).
        const std::string& base = entry.first;
        const Summary& s = entry.second;
        h << "<tr><td title=\"" << html_escape(s.doc) << "\">" << html_escape(base) << "</td>";
        auto cell = [&](const char* k, const std::string& unit) {
          h << "<td>"
            << (s.parts.count(k) ? html_escape(format_metric_value(s.parts.at(k), unit)) : "")
            << "</td>";
        };
        cell("count", "samples");
        for (const char* k : {"min", "p50", "p99", "max"}) cell(k, s.unit);
        h << "<td>" << quantile_svg(s) << "</td><td>";
        if (histograms.contains(base) && histograms.at(base).is_array())
          h << histogram_svg(s, histograms.at(base));
        h << "</td></tr>\n";
      }
      h << "</table>\n";
    }
    if (plain.count(g)) {
      h << "<table class=\"metrics\">\n";
      for (const auto& p : plain[g])
        h << "<tr><td title=\"" << html_escape(p.doc) << "\">" << html_escape(p.name) << "</td><td>"
          << html_escape(p.value) << "</td></tr>\n";
      h << "</table>\n";
    }
  }
  return h.str();
}

}  // namespace vcpusim::tools
