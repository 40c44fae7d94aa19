#include "tools/sweep/sweep_results.hpp"

#include <cctype>
#include <cfloat>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/sweep/sweep_plan.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

Json RunRecord::to_json() const {
  return {{"id", id},
          {"point", point_key},
          {"seed", seed},
          {"status", status},
          {"exit_code", exit_code},
          {"error", error},
          {"metrics", metrics},
          {"violations", violations},
          {"fingerprint", fingerprint},
          {"wall_seconds", wall_seconds}};
}

std::string record_name(const std::string& id) {
  return "run-" + id + ".json";
}

RunRecord new_record(const Json& plan, std::size_t run) {
  const std::size_t seeds = plan.at("seeds").size();
  RunRecord r;
  r.run = run;
  r.point = run / seeds;
  r.point_key = plan.at("points").at(r.point).at("key").get<std::string>();
  r.seed = plan.at("seeds").at(run % seeds).get<std::uint64_t>();
  r.id = run_id(r.point_key, r.seed);
  return r;
}

namespace {

const std::vector<std::string> kStatuses = {"met",       "not-met", "bad-input",
                                            "sim-error", "crashed", "budget-exceeded"};

std::string dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

// Not a signature: it catches an edited, damaged or misplaced record, not a forger who
// recomputes it. Bound to the sweep, so a record copied from another sweep fails it too.
std::string record_checksum(const Json& content, const std::string& key) {
  return "fnv1a64:" + fnv1a64(key + "\n" + dump(content, -1));
}

std::string record_text(const RunRecord& r, const Json& plan) {
  Json j = r.to_json();
  j["checksum"] = record_checksum(j, run_key(plan, r.point));
  return dump(j, 1) + "\n";
}

RunRecord read_record(const std::string& text, const std::string& file, const Json& plan) {
  return read_record(text, file, plan, PlanIndex(plan));
}

RunRecord read_record(const std::string& text, const std::string& file, const Json& plan,
                      const PlanIndex& index) {
  Json j = sim::parse_json_text(text, file);
  const sim::Node root(j, file, "$");
  root.require_object();
  root.reject_unknown({"checksum", "error", "exit_code", "fingerprint", "id", "metrics", "point",
                       "seed", "status", "violations", "wall_seconds"});
  RunRecord r;
  r.point_key = root.at("point").as_string();
  const auto point = index.point_of_key.find(r.point_key);
  if (point == index.point_of_key.end())
    root.at("point").fail(sim::quote(r.point_key) + " is not a point of this sweep",
                          "the key of one of sweep.json's points");
  r.point = point->second;
  r.seed = static_cast<std::uint64_t>(root.at("seed").as_int(0, INT64_MAX));
  const auto seed = index.seed_position.find(r.seed);
  if (seed == index.seed_position.end())
    root.at("seed").fail(std::to_string(r.seed) + " is not a seed of this sweep",
                         plan.at("seeds").dump());
  r.run = r.point * index.seeds + seed->second;
  r.id = root.at("id").as_string();
  if (r.id != run_id(r.point_key, r.seed))
    root.at("id").fail(sim::quote(r.id) + " is not the id of this point and seed",
                       sim::quote(run_id(r.point_key, r.seed)));
  const std::string sum = root.at("checksum").as_string();
  Json content = j;
  content.erase("checksum");
  if (sum != record_checksum(content, run_key(plan, r.point)))
    root.at("checksum")
        .fail(sim::quote(sum) +
                  " does not match the record's content: the record was edited or damaged, or "
                  "is another sweep's",
              "the record as the sweep wrote it (delete the file and resume to run it again)");
  r.status = root.at("status").as_enum(kStatuses);
  r.exit_code = static_cast<int>(root.at("exit_code").as_int(0, 255));
  r.error = root.at("error").as_string();
  const sim::Node metrics = root.at("metrics"), violations = root.at("violations");
  metrics.require_object();
  for (auto it = metrics.json().begin(); it != metrics.json().end(); ++it)
    r.metrics[it.key()] = metrics.at(it.key()).as_real(-DBL_MAX, DBL_MAX);
  violations.require_object();
  for (auto it = violations.json().begin(); it != violations.json().end(); ++it)
    r.violations[it.key()] = violations.at(it.key()).as_int(0, INT64_MAX);
  r.fingerprint = root.at("fingerprint").as_string();
  r.wall_seconds = root.at("wall_seconds").as_real(0, DBL_MAX);
  return r;
}

std::map<std::size_t, RunRecord> read_records(const std::string& dir, const Json& plan) {
  std::map<std::size_t, RunRecord> out;
  const fs::path runs = fs::path(dir) / "runs";
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(runs, ec))) return out;
  const PlanIndex index(plan);
  fs::directory_iterator it(runs, ec);
  if (ec)
    throw sim::ConfigError(runs.string() + ": cannot read the directory (" + ec.message() + ")");
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (name.rfind("run-", 0) != 0 || e.path().extension() != ".json") continue;
    const std::string file = e.path().string();
    RunRecord r = read_record(sim::read_input_file(file, "sweep run record"), file, plan, index);
    if (record_name(r.id) != name)
      throw sim::ConfigError(file + ": $.id: " + sim::quote(r.id) +
                             " is not the run this file name holds; allowed: the run of " + name);
    out.emplace(r.run, std::move(r));
  }
  return out;
}

void write_record(const std::string& dir, const Json& plan, const RunRecord& r) {
  write_file_durably((fs::path(dir) / "runs" / record_name(r.id)).string(), record_text(r, plan));
}

std::vector<std::string> metric_columns(const std::map<std::size_t, RunRecord>& records,
                                        const std::vector<std::string>& wanted) {
  if (!wanted.empty()) return wanted;
  std::set<std::string> names;
  for (const auto& [run, r] : records)
    for (const auto& [name, value] : r.metrics) names.insert(name);
  return {names.begin(), names.end()};
}

namespace {

// A whole decimal number (e.g. "-5", "+2.5e3"): a spreadsheet reads it as that number.
bool is_number(const std::string& s) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char* end = nullptr;
  (void)std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

}  // namespace

std::string csv_field(const std::string& s) {
  // A cell that starts as a formula would (=, +, -, @, TAB, CR) and is not a number gets a
  // leading apostrophe (OWASP, "CSV Injection"): a label or error message opened in a
  // spreadsheet is text, never a formula or a DDE call.
  const bool formula = !s.empty() && std::string("=+-@\t\r").find(s[0]) != std::string::npos &&
                       !is_number(s);
  const std::string text = formula ? "'" + s : s;
  if (!formula && text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace vcpusim::tools
