#include "tools/sweep/sweep_report.hpp"

#include <cstring>
#include <filesystem>
#include <sstream>

#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_html.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_plots.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {
std::vector<std::string> axis_names(const Json& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan.at("axes")) out.push_back(a.at("name").get<std::string>());
  return out;
}
std::vector<std::string> strings(const Json& j) {
  return j.get<std::vector<std::string>>();
}

// Metric names "violations.CHECK" are the check's violation count per run; runs.csv has them as
// the check columns already.
constexpr const char* kViolationsPrefix = "violations.";
std::vector<std::string> run_metric_columns(const std::map<std::size_t, RunRecord>& records,
                                            const Json& plan) {
  std::vector<std::string> out;
  for (auto& m : metric_columns(records, strings(plan.at("metrics"))))
    if (m.rfind(kViolationsPrefix, 0) != 0) out.push_back(m);
  return out;
}
}  // namespace

std::vector<PointSummary> summarize_points(const Json& plan,
                                           const std::map<std::size_t, RunRecord>& records,
                                           const std::vector<std::string>& metric_names) {
  const std::size_t seeds = plan.at("seeds").size();
  const auto checks = strings(plan.at("checks"));
  std::vector<PointSummary> out;
  for (const auto& p : plan.at("points")) {
    PointSummary s;
    s.index = p.at("index").get<std::size_t>();
    s.labels = strings(p.at("labels"));
    for (const auto& x : p.at("x"))
      s.x.push_back(x.is_null() ? std::nullopt : std::optional(x.get<double>()));
    if (!p.at("predicted").is_null()) s.predicted = p.at("predicted").get<double>();
    std::map<std::string, std::vector<double>> values;
    std::string ids;  // the runs the statistics are of: they seed the bootstrap
    std::size_t ok = 0;
    for (std::size_t k = 0; k < seeds; ++k) {
      const auto it = records.find(s.index * seeds + k);
      if (it == records.end()) {
        ++s.missing;
        continue;
      }
      const RunRecord& r = it->second;
      ++s.runs;
      if (!r.succeeded()) {
        ++s.failed;
        continue;
      }
      ++ok;
      ids += r.id + "\n";
      for (const auto& m : metric_names) {
        if (m.rfind(kViolationsPrefix, 0) == 0) {  // a check's violation count per run
          const auto v = r.violations.find(m.substr(std::strlen(kViolationsPrefix)));
          if (v != r.violations.end()) values[m].push_back(static_cast<double>(v->second));
          continue;
        }
        const auto v = r.metrics.find(m);
        if (v != r.metrics.end()) values[m].push_back(v->second);
      }
      for (const auto& c : checks) {
        const auto v = r.violations.find(c);
        if (v != r.violations.end() && v->second > 0) ++s.violating_runs[c];
      }
    }
    for (const auto& m : metric_names)
      s.metrics[m] = describe_samples(values[m], std::stoull(fnv1a64(ids + m), nullptr, 16));
    for (const auto& c : checks) s.violation[c] = wilson95(s.violating_runs[c], ok);
    out.push_back(std::move(s));
  }
  return out;
}

std::string runs_csv(const Json& plan, const std::map<std::size_t, RunRecord>& records) {
  const auto axes = axis_names(plan);
  const auto checks = strings(plan.at("checks"));
  const auto metrics = run_metric_columns(records, plan);
  const Json& points = plan.at("points");
  std::ostringstream o;
  o << "run,point";
  for (const auto& a : axes) o << "," << csv_field(a);
  o << ",seed,status,exit_code";
  for (const auto& m : metrics) o << "," << csv_field(m);
  for (const auto& c : checks) o << "," << csv_field("violations." + c);
  o << ",fingerprint,error\n";
  for (const auto& [run, r] : records) {
    o << r.id << "," << r.point;
    for (const auto& l : points.at(r.point).at("labels"))
      o << "," << csv_field(l.get<std::string>());
    o << "," << r.seed << "," << r.status << "," << r.exit_code;
    for (const auto& m : metrics) {
      const auto v = r.metrics.find(m);
      o << "," << (v == r.metrics.end() ? "" : format_number(v->second));
    }
    for (const auto& c : checks) {
      const auto v = r.violations.find(c);
      o << "," << (v == r.violations.end() ? "" : std::to_string(v->second));
    }
    o << "," << r.fingerprint << "," << csv_field(r.error) << "\n";
  }
  return o.str();
}

std::string summary_csv(const Json& plan, const std::vector<PointSummary>& points,
                        const std::vector<std::string>& metric_names) {
  const auto checks = strings(plan.at("checks"));
  const bool model = !plan.at("model").get<std::string>().empty();
  std::ostringstream o;
  o << "point";
  for (const auto& a : axis_names(plan)) o << "," << csv_field(a);
  o << ",runs,failed,missing";
  for (const auto& m : metric_names)
    for (const char* s : {".mean", ".lo95", ".hi95", ".ci95_method", ".p50", ".p99", ".max"})
      o << "," << csv_field(m + s);
  for (const auto& c : checks)
    for (const char* s : {".violating_runs", ".p", ".p_lo95", ".p_hi95"})
      o << "," << csv_field(c + s);
  if (model) o << ",model.p";
  o << "\n";
  for (const auto& p : points) {
    o << p.index;
    for (const auto& l : p.labels) o << "," << csv_field(l);
    o << "," << p.runs << "," << p.failed << "," << p.missing;
    for (const auto& m : metric_names) {
      const MetricStats& s = p.metrics.at(m);
      if (s.n == 0) {
        o << ",,,,,,,";
        continue;
      }
      o << "," << format_number(s.mean) << "," << format_number(s.lo95) << ","
        << format_number(s.hi95) << "," << kMeanIntervalMethod;
      for (double v : {s.p50, s.p99, s.max}) o << "," << format_number(v);
    }
    for (const auto& c : checks) {
      const Proportion& w = p.violation.at(c);
      o << "," << p.violating_runs.at(c);
      for (double v : {w.p, w.lo, w.hi}) o << "," << format_number(v);
    }
    if (model) o << "," << (p.predicted ? format_number(*p.predicted) : "");
    o << "\n";
  }
  return o.str();
}

std::string write_sweep_outputs(const std::string& dir, const Json& plan,
                                const std::map<std::size_t, RunRecord>& records) {
  const auto metrics = metric_columns(records, strings(plan.at("metrics")));
  const auto points = summarize_points(plan, records, metrics);
  write_file_durably((fs::path(dir) / "runs.csv").string(), runs_csv(plan, records));
  std::ostringstream t;
  t << "run,point,seed,wall_seconds\n";
  for (const auto& [run, r] : records)
    t << r.id << "," << r.point << "," << r.seed << "," << format_number(r.wall_seconds) << "\n";
  write_file_durably((fs::path(dir) / "timings.csv").string(), t.str());
  write_file_durably((fs::path(dir) / "summary.csv").string(), summary_csv(plan, points, metrics));
  std::string warnings;
  // Drawn afresh: gnuplot writes its SVG and log files by name, so no file or link left in plots/
  // may be there for it to write through.
  renew_subdir(dir, "plots");
  const std::vector<PlotFile> plots = write_plots(dir, plan, points, warnings);
  write_file_durably((fs::path(dir) / "index.html").string(),
                     render_sweep_html(dir, plan, points, metrics, plots));
  return warnings;
}

}  // namespace vcpusim::tools
