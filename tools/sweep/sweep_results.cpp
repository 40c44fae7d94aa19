#include "tools/sweep/sweep_results.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/error.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

Json RunRecord::to_json() const {
  return {{"run", run},
          {"point", point},
          {"seed", seed},
          {"status", status},
          {"exit_code", exit_code},
          {"error", error},
          {"metrics", metrics},
          {"violations", violations},
          {"fingerprint", fingerprint},
          {"wall_seconds", wall_seconds}};
}

RunRecord RunRecord::from_json(const Json& j) {
  RunRecord r;
  r.run = j.at("run").get<std::size_t>();
  r.point = j.at("point").get<std::size_t>();
  r.seed = j.at("seed").get<std::uint64_t>();
  r.status = j.at("status").get<std::string>();
  r.exit_code = j.at("exit_code").get<int>();
  r.error = j.at("error").get<std::string>();
  r.metrics = j.at("metrics").get<std::map<std::string, double>>();
  r.violations = j.at("violations").get<std::map<std::string, std::int64_t>>();
  r.fingerprint = j.at("fingerprint").get<std::string>();
  r.wall_seconds = j.at("wall_seconds").get<double>();
  return r;
}

std::string record_name(std::size_t run) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "run-%07zu.json", run);
  return buf;
}

namespace {
void fail_write(const std::string& path) {
  throw sim::ConfigError(path + ": cannot write the output file (" + std::strerror(errno) + ")");
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) fail_write(path);
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) fail_write(path);
}
}  // namespace

void write_file_durably(const std::string& path, const std::string& text) {
  const fs::path p(path);
  const std::string tmp =
      (p.parent_path() / (".tmp-" + p.filename().string() + "." + std::to_string(::getpid())))
          .string();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail_write(path);
    out << text;
    if (!out.flush()) {
      std::remove(tmp.c_str());
      fail_write(path);
    }
  }
  fsync_path(tmp, O_RDONLY);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail_write(path);
  }
  fsync_path(p.parent_path().empty() ? "." : p.parent_path().string(), O_RDONLY | O_DIRECTORY);
}

std::map<std::size_t, RunRecord> read_records(const std::string& dir) {
  std::map<std::size_t, RunRecord> out;
  const fs::path runs = fs::path(dir) / "runs";
  if (!fs::is_directory(runs)) return out;
  for (const auto& e : fs::directory_iterator(runs)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) {  // a write the sweep did not finish: never a record
      fs::remove(e.path());
      continue;
    }
    if (name.rfind("run-", 0) != 0 || e.path().extension() != ".json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    try {
      RunRecord r = RunRecord::from_json(Json::parse(text.str()));
      if (record_name(r.run) != name)
        throw sim::ConfigError(e.path().string() + ": holds run " + std::to_string(r.run));
      out.emplace(r.run, std::move(r));
    } catch (const Json::exception& x) {
      throw sim::ConfigError(e.path().string() + ": not a sweep run record (" + x.what() + ")");
    }
  }
  return out;
}

void write_record(const std::string& dir, const RunRecord& r) {
  write_file_durably((fs::path(dir) / "runs" / record_name(r.run)).string(),
                     r.to_json().dump(1) + "\n");
}

std::vector<std::string> metric_columns(const std::map<std::size_t, RunRecord>& records,
                                        const std::vector<std::string>& wanted) {
  if (!wanted.empty()) return wanted;
  std::set<std::string> names;
  for (const auto& [run, r] : records)
    for (const auto& [name, value] : r.metrics) names.insert(name);
  return {names.begin(), names.end()};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace vcpusim::tools
