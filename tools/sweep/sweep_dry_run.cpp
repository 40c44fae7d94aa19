#include "tools/sweep/sweep_dry_run.hpp"

#include <filesystem>
#include <map>
#include <vector>

#include "sim/error.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_results.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {

std::string point_text(const Json& plan, const Json& point) {
  std::string out;
  for (std::size_t i = 0; i < plan.at("axes").size(); ++i)
    out += (i ? ", " : "") + plan.at("axes").at(i).at("name").get<std::string>() + "=" +
           point.at("labels").at(i).get<std::string>();
  return out;
}

}  // namespace

std::string model_warning_lines(const Json& plan) {
  std::vector<std::string> order;
  std::map<std::string, std::string> where;
  for (const auto& p : plan.at("points")) {
    if (!p.contains("model_warning")) continue;
    const std::string w = p.at("model_warning").get<std::string>();
    if (!where.count(w)) order.push_back(w);
    std::string& at = where[w];
    at += (at.empty() ? "" : ", ") + std::to_string(p.at("index").get<std::size_t>()) + " (" +
          point_text(plan, p) + ")";
  }
  std::string out;
  for (const auto& w : order)
    out += "sweep: warning: closed form drawn where its assumption fails, at points " +
           sim::printable(where[w]) + ": " + w + "\n";
  return out;
}

int dry_run_sweep(const SweepSpec& spec, const std::string& dir, std::ostream& out) {
  const Json plan = spec.resolved();
  std::map<std::size_t, RunRecord> held;
  // Only read: a DIR that is not (yet) a sweep's holds no runs, and nothing is created.
  if (!dir.empty() && is_sweep_dir(dir)) {
    std::error_code ec;
    const fs::path old = fs::path(dir) / "sweep.json";
    if (fs::exists(fs::symlink_status(old, ec))) {
      check_grows(read_plan(old.string()), plan, dir);
      held = read_records(dir, plan);
    }
  }
  const std::size_t runs = plan_runs(plan);
  out << "sweep " << sim::printable(spec.name) << ": " << plan.at("points").size() << " points x "
      << plan.at("seeds").size() << " seeds = " << runs << " runs";
  if (!dir.empty())
    out << "; " << sim::printable(dir) << " holds " << held.size() << ", " << runs - held.size()
        << " would run";
  out << " (dry run: nothing runs, nothing is written)\n";
  const std::size_t seeds = plan.at("seeds").size();
  for (std::size_t run = 0; run < runs; ++run) {
    const Json& point = plan.at("points").at(run / seeds);
    out << run_id(plan, run) << "  point " << run / seeds << " ("
        << sim::printable(point_text(plan, point)) << ")  seed " << plan.at("seeds").at(run % seeds)
        << "  " << (held.count(run) ? "exists" : "new") << "\n";
  }
  out << model_warning_lines(plan);
  return 0;
}

}  // namespace vcpusim::tools
