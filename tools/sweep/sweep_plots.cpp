#include "tools/sweep/sweep_plots.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "guest/registries.hpp"
#include "sim/config/config.hpp"
#include "sim/record/metric_registry.hpp"
#include "tools/sweep/sweep_report.hpp"
#include "tools/sweep/sweep_stats.hpp"

extern char** environ;

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {

struct PlotRow {
  double x, y, lo, hi;
};

// Text from the input (sweep name, axis names and units, point labels, check and metric names)
// reaches gnuplot only as this: a single-quoted string, the one gnuplot form with no escapes, no
// `backquote` command substitution and no @macro expansion; '' is its only escape. Control
// characters, which could end the command line, and the bidi overrides become visible escapes
// (sim::printable), so nothing can close the string or the line; the terminal is noenhanced, so
// no markup is read either. gnuplot has no switch that turns off `system` and `!`: this quoting
// is what keeps a name from running a command. Drawing the SVG here instead would need axes,
// tics, error bars and a legend of our own; the .gp scripts are kept, so that a plot can be
// edited and re-drawn in gnuplot.
std::string gp_string(const std::string& s) {
  std::string out = "'";
  for (char c : sim::printable(s)) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

std::string axis_label(const Json& axis) {
  const std::string unit = axis.at("unit").get<std::string>();
  return axis.at("name").get<std::string>() + (unit.empty() ? "" : " (" + unit + ")");
}

// A metric's declared unit ("violations.CHECK" counts per run).
std::string metric_unit(const std::string& metric) {
  if (metric.rfind("violations.", 0) == 0) return "violations per run";
  const auto found = sim::resolve_metric(guest::builtin_registries().metrics, metric);
  return found.empty() ? "" : found.front().unit();
}

// The unit a plot shows values of `unit` in, chosen once per plot from its largest magnitude
// (`largest`): nanoseconds as ns, us or ms, so the tics read 1.5 rather than 1500000. Returns
// the divisor and sets `shown`.
double display_scale(const std::string& unit, double largest, std::string& shown) {
  shown = unit;
  if (unit != "ns") return 1;
  if (largest >= 1e6) {
    shown = "ms";
    return 1e6;
  }
  if (largest >= 1e3) {
    shown = "us";
    return 1e3;
  }
  return 1;
}

// Runs gnuplot on `script` (in `plots`); false (and a warning) when it is missing or fails.
// gnuplot writes the SVG into its working directory, a fresh private one (mkdtemp) inside
// `plots`: it never opens a file something else put there (a link to follow). The SVG is then
// renamed over `svg`, which replaces a link rather than following it. -d: no gnuplotrc nor
// ~/.gnuplot, so the plot is the script's alone.
bool run_gnuplot(const fs::path& plots, const std::string& script, const std::string& svg,
                 std::string& warnings) {
  std::string tmpl = (plots / ".gnuplot-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    warnings +=
        "cannot create a directory in " + sim::printable(plots.string()) + ": plots not drawn\n";
    return false;
  }
  const fs::path work = fs::absolute(tmpl);  // the file actions below run after the chdir
  const std::string err = (work / "gnuplot.log").string();
  const std::string path = fs::absolute(plots / script).string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, work.c_str());
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  std::vector<char*> argv = {const_cast<char*>("gnuplot"), const_cast<char*>("-d"),
                             const_cast<char*>(path.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "gnuplot", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  bool drawn = false;
  std::error_code ec;
  const fs::path log = plots / (script + ".log");
  if (rc == ENOENT) {
    warnings += "gnuplot not found (tools/scripts/setup.sh installs it): plots not drawn\n";
  } else if (rc != 0) {
    warnings += std::string("cannot start gnuplot: ") + std::strerror(rc) + "\n";
  } else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
             !fs::is_regular_file(work / svg)) {
    fs::rename(err, log, ec);
    warnings += "gnuplot failed on " + sim::printable(path) + " (see " +
                sim::printable(log.string()) + ")\n";
  } else {
    fs::rename(work / svg, plots / svg, ec);
    drawn = !ec;
    if (ec) warnings += "cannot write " + sim::printable((plots / svg).string()) + "\n";
    fs::remove(log, ec);  // a failed earlier drawing's (a link is removed, not followed)
  }
  fs::remove_all(work, ec);
  return drawn;
}

// One plot: `value` gives (y, lo, hi) of a point, or nothing; `model` an optional second line.
// `ylabel` is the y axis's name; `unit` the values' unit (shown scaled by display_scale), or ""
// for a probability.
PlotFile plot(const std::string& dir, const Json& plan, const std::vector<PointSummary>& points,
              const std::string& file, const std::string& title, const std::string& ylabel,
              const std::string& unit, bool probability,
              const std::function<std::optional<PlotRow>(const PointSummary&)>& value,
              const std::string& legend, bool with_model, std::string& warnings) {
  const Json& axes = plan.at("axes");
  // Series: points grouped by their labels on the other axes, in point order.
  std::vector<std::string> series_names;
  std::map<std::string, std::vector<PlotRow>> series, model;
  bool numeric = true;
  for (const auto& p : points) numeric = numeric && p.x[0].has_value();
  std::map<std::string, double> category;  // first-axis label -> position, when not numeric
  for (const auto& p : points) {
    std::string name;
    for (std::size_t i = 1; i < p.labels.size(); ++i)
      name += (i > 1 ? ", " : "") + axes[i].at("name").get<std::string>() + "=" + p.labels[i];
    if (!series.count(name)) series_names.push_back(name);
    auto& rows = series[name];
    const double x =
        numeric ? *p.x[0]
                : category.emplace(p.labels[0], static_cast<double>(category.size())).first->second;
    if (auto r = value(p)) rows.push_back({x, r->y, r->lo, r->hi});
    if (with_model && p.predicted) model[name].push_back({x, *p.predicted, 0, 0});
  }
  double largest = 0;
  for (const auto& [name, rows] : series)
    for (const PlotRow& r : rows)
      largest = std::max({largest, std::fabs(r.y), std::fabs(r.lo), std::fabs(r.hi)});
  std::string shown;
  const double per = display_scale(unit, largest, shown);
  for (auto& [name, rows] : series)
    for (PlotRow& r : rows) r = {r.x, r.y / per, r.lo / per, r.hi / per};
  const bool log_x = numeric && axes[0].value("scale", "linear") == "log";
  std::ostringstream g;
  const std::string svg = "plots/" + file + ".svg";
  // Input text goes in gp_string only; everything else on these lines is fixed or a number.
  g << "# vcpusim sweep plot; re-draw with: gnuplot " << file << ".gp (in this directory)\n"
    << "set terminal svg size 760,460 dynamic noenhanced font 'sans,11' background rgb 'white'\n"
    << "set output " << gp_string(file + ".svg") << "\n"
    << "set title " << gp_string(plan.at("name").get<std::string>() + ": " + title)
    << " noenhanced\n"
    << "set xlabel " << gp_string(axis_label(axes[0])) << " noenhanced\n"
    << "set ylabel " << gp_string(shown.empty() ? ylabel : ylabel + " (" + shown + ")")
    << " noenhanced\n"
    << "set grid\nset key top left noenhanced\nset offsets graph 0.03, graph 0.03, 0, 0\n";
  if (probability) g << "set yrange [-0.02:1.02]\n";
  if (log_x) g << "set logscale x\n";
  if (!numeric) {
    g << "set xtics (";
    bool first = true;
    for (const auto& [label, pos] : category) {
      g << (first ? "" : ", ") << gp_string(label) << " " << pos;
      first = false;
    }
    g << ")\n";
  }
  std::string plot_cmd;
  std::size_t block = 0;
  for (const auto& name : series_names) {
    const std::string id = "$s" + std::to_string(block);
    g << id << " << EOD\n";
    for (const PlotRow& r : series[name])
      g << format_number(r.x) << " " << format_number(r.y) << " " << format_number(r.lo) << " "
        << format_number(r.hi) << "\n";
    g << "EOD\n";
    plot_cmd += std::string(plot_cmd.empty() ? "" : ", ") + id +
                " using 1:2:3:4 with yerrorlines lw 1.5 pt 7 ps 0.6 title " +
                gp_string(name.empty() ? legend : name + ", " + legend);
    if (model.count(name)) {
      const std::string mid = "$m" + std::to_string(block);
      g << mid << " << EOD\n";
      for (const PlotRow& r : model[name])
        g << format_number(r.x) << " " << format_number(r.y) << "\n";
      g << "EOD\n";
      plot_cmd += ", " + mid + " using 1:2 with lines dt 2 lw 2 title " +
                  gp_string("closed form (" + plan.at("model").get<std::string>() + ")" +
                            (name.empty() ? "" : " " + name));
    }
    ++block;
  }
  if (plot_cmd.empty()) return {title, svg, false, ""};
  g << "plot " << plot_cmd << "\n";
  const std::string script = (fs::path(dir) / "plots" / (file + ".gp")).string();
  write_file_durably(script, g.str());
  const bool drawn = run_gnuplot(fs::path(dir) / "plots", file + ".gp", file + ".svg", warnings);
  return {title, svg, drawn, ""};
}

}  // namespace

std::vector<PlotFile> write_plots(const std::string& dir, const Json& plan,
                                  const std::vector<PointSummary>& points, std::string& warnings) {
  fs::create_directories(fs::path(dir) / "plots");
  std::vector<PlotFile> out;
  const bool model = !plan.at("model").get<std::string>().empty();
  for (const auto& m : plan.at("plots")) {
    const std::string metric = m.get<std::string>();
    out.push_back(plot(
        dir, plan, points, "metric-" + safe_name(metric), metric + " (mean, 95% interval)", metric,
        metric_unit(metric), false,
        [&metric](const PointSummary& p) -> std::optional<PlotRow> {
          const auto it = p.metrics.find(metric);
          if (it == p.metrics.end() || it->second.n == 0) return std::nullopt;
          const MetricStats& s = it->second;
          return PlotRow{0, s.mean, s.lo95, s.hi95};
        },
        std::string("mean, 95% ") + kMeanIntervalMethod, false, warnings));
  }
  // Where the closed form's assumption fails, said next to the plots it is drawn in.
  std::string at, why;
  for (const auto& p : plan.at("points")) {
    if (!p.contains("model_warning")) continue;
    at += (at.empty() ? "" : ", ") + std::to_string(p.at("index").get<std::size_t>());
    if (why.empty()) why = p.at("model_warning").get<std::string>();
  }
  std::string model_warning;
  if (!at.empty())
    model_warning = "Warning: the closed form is drawn at points " + at +
                    ", where its assumption fails: " + why;
  std::vector<PlotFile> quiet;  // checks no run violated: after the others
  for (const auto& c : plan.at("checks")) {
    const std::string check = c.get<std::string>();
    bool any = false;
    for (const auto& p : points)
      any = any || (p.violating_runs.count(check) && p.violating_runs.at(check) > 0);
    PlotFile f = plot(
        dir, plan, points, "violations-" + safe_name(check),
        "probability of a " + check + " violation per run", "P(run has a violation)", "", true,
        [&check](const PointSummary& p) -> std::optional<PlotRow> {
          if (p.runs == p.failed) return std::nullopt;
          const Proportion& w = p.violation.at(check);
          return PlotRow{0, w.p, w.lo, w.hi};
        },
        "Wilson score 95%", model, warnings);
    if (model) f.warning = model_warning;
    (any ? out : quiet).push_back(std::move(f));
  }
  out.insert(out.end(), quiet.begin(), quiet.end());
  return out;
}

}  // namespace vcpusim::tools
