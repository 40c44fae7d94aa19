#include "tools/sweep/sweep_html.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/run/shell_quote.hpp"
#include "tools/sweep/sweep_report.hpp"
#include "tools/view/html_text.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {

const char* const kSweepStyle = R"(
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.plot svg{max-width:100%;height:auto}
.warning{color:#8a4b00;background:#fff4e0;padding:.3em .5em}
code{font-size:.8em;background:#f6f6f6;padding:1px 3px;user-select:all}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;font-size:.8em}
)";

std::string read_svg(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream t;
  t << in.rdbuf();
  std::string s = t.str();
  const auto start = s.find("<svg");  // drop the XML prolog and doctype
  return start == std::string::npos ? "" : s.substr(start);
}

// gnuplot names the elements of every SVG alike (gnuplot_canvas, gpPt0, textbox, ...): inlined
// side by side, a page would hold each id several times and every href="#gpPt0" would point at
// the first plot's. Each plot's ids, and the references to them (href="#X", url(#X)), get the
// prefix `prefix`.
std::string prefix_svg_ids(const std::string& svg, const std::string& prefix) {
  std::string out;
  out.reserve(svg.size() + 1024);
  static const char* const kMarks[] = {" id=\"", " id='", "href=\"#", "href='#", "url(#"};
  for (std::size_t i = 0; i < svg.size();) {
    bool marked = false;
    for (const char* m : kMarks) {
      const std::size_t len = std::char_traits<char>::length(m);
      if (svg.compare(i, len, m) == 0) {
        out.append(m, len);
        out += prefix;
        i += len;
        marked = true;
        break;
      }
    }
    if (!marked) out += svg[i++];
  }
  return out;
}

}  // namespace

// Input text (names, labels, paths, the re-run commands) goes through html_escape into element
// text only; the page has no script (its Content-Security-Policy allows none), and the inlined
// SVGs are gnuplot's, whose text it escapes itself, drawn from strings sweep_plots.cpp cleaned.
std::string render_sweep_html(const std::string& dir, const Json& plan,
                              const std::vector<PointSummary>& points,
                              const std::vector<std::string>& metrics,
                              const std::vector<PlotFile>& plots) {
  const std::string name = plan.at("name").get<std::string>();
  const auto checks = plan.at("checks").get<std::vector<std::string>>();
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">\n"
    << "<title>vcpusim sweep: " << html_escape(name) << "</title>\n<style>" << kSweepStyle
    << "</style>\n"
    << "</head><body>\n<h1>vcpusim sweep: " << html_escape(name) << "</h1>\n<p>"
    << html_escape(plan.at("description").get<std::string>()) << "</p>\n<p>Base scenario <code>"
    << html_escape(plan.at("scenario").get<std::string>()) << "</code>, " << points.size()
    << " points x " << plan.at("seeds").size()
    << " seeds. Files: runs.csv (one row per run), summary.csv (per point), timings.csv (wall "
       "time per run), plots/, sweep.json (the resolved spec).</p>\n";
  h << "<h2>Plots</h2>\n";
  for (std::size_t i = 0; i < plots.size(); ++i) {
    const PlotFile& p = plots[i];
    h << "<div class=\"plot\"><h3>" << html_escape(p.title) << "</h3>\n";
    if (!p.warning.empty()) h << "<p class=\"warning\">" << html_escape(p.warning) << "</p>\n";
    if (p.drawn)
      h << prefix_svg_ids(read_svg(fs::path(dir) / p.svg), "plot" + std::to_string(i) + "-")
        << "\n";
    else
      h << "<p>(not drawn: gnuplot was not available or failed; the script is "
        << html_escape(p.svg) << " with .gp)</p>\n";
    h << "</div>\n";
  }
  h << "<h2>Points</h2>\n<table><tr><th>point</th>";
  for (const auto& a : plan.at("axes"))
    h << "<th>" << html_escape(a.at("name").get<std::string>()) << "</th>";
  h << "<th>runs</th><th>failed</th>";
  for (const auto& c : checks) h << "<th>" << html_escape(c) << ": P(violation) [95%]</th>";
  if (!plan.at("model").get<std::string>().empty()) h << "<th>closed form</th>";
  for (const auto& m : metrics)
    h << "<th>" << html_escape(m) << " mean [95%, " << kMeanIntervalMethod << "]</th>";
  h << "<th>re-run one seed</th></tr>\n";
  const std::uint64_t first_seed = plan.at("seeds").at(0).get<std::uint64_t>();
  for (const auto& p : points) {
    h << "<tr id=\"point-" << p.index << "\"><td><a href=\"#point-" << p.index << "\">" << p.index
      << "</a></td>";
    for (const auto& l : p.labels) h << "<td>" << html_escape(l) << "</td>";
    h << "<td>" << p.runs << (p.missing ? " (" + std::to_string(p.missing) + " missing)" : "")
      << "</td><td>" << p.failed << "</td>";
    for (const auto& c : checks) {
      const Proportion& w = p.violation.at(c);
      h << "<td>" << p.violating_runs.at(c) << "/" << (p.runs - p.failed) << " = "
        << format_number(w.p) << " [" << format_number(w.lo) << ", " << format_number(w.hi)
        << "]</td>";
    }
    if (!plan.at("model").get<std::string>().empty())
      h << "<td>" << (p.predicted ? format_number(*p.predicted) : "-") << "</td>";
    for (const auto& m : metrics) {
      const MetricStats& s = p.metrics.at(m);
      h << "<td>"
        << (s.n ? format_number(s.mean) + " [" + format_number(s.lo95) + ", " +
                      format_number(s.hi95) + "]"
                : "-")
        << "</td>";
    }
    std::string cmd = "vcpusim run " + shell_quote(plan.at("scenario").get<std::string>()) +
                      " --seed " + std::to_string(first_seed);
    for (const auto& s : plan.at("points").at(p.index).at("set"))
      cmd += " --set " + shell_quote(s.get<std::string>());
    h << "<td><code>" << html_escape(cmd) << "</code></td></tr>\n";
  }
  h << "</table>\n<h2>Resolved spec</h2>\n<pre>";
  Json spec = plan;
  spec.erase("points");
  h << html_escape(spec.dump(2, ' ', false, Json::error_handler_t::replace))
    << "</pre>\n</body></html>\n";
  return h.str();
}

}  // namespace vcpusim::tools
