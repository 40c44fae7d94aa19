#include "tools/load/load_cli.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cpu/ftrace/fd_reader.hpp"
#include "cpu/ftrace/ftrace_import.hpp"
#include "cpu/ftrace/trace_recording_file.hpp"
#include "cpu/params.hpp"
#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/load/trace_summary.hpp"
#include "tools/run/output_files.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {
namespace {

constexpr const char* kLoadUsage =
    "usage: vcpusim load import TRACE -o OUT.json [options]\n\n"
    "Reads a host recording once: the text of tracefs' trace file, of trace-cmd report or of\n"
    "perf sched script, with sched:sched_switch events (irq and softirq entry and exit, where\n"
    "recorded, become interrupt time). TRACE '-' reads standard input, so a recording may\n"
    "stream from a pipe; memory stays flat in its length. Prints a summary (per trace CPU the\n"
    "share other threads ran and interrupts took, busy-burst lengths, the busiest threads, the\n"
    "VM's threads left out) and writes OUT.json, the imported recording: a trace host load names\n"
    "it as its file ({\"kind\": \"trace\", \"file\": \"OUT.json\", \"cpus\": [...]}; its \"load\"\n"
    "member is that fragment) and replays it without the trace. It records the source's size\n"
    "and FNV-1a 64 hash. Times are kept in whole nanoseconds. docs/host-trace.md\n\noptions";

// Opens TRACE: '-' is standard input; a path must be a regular file or a FIFO (a generator's
// pipe).
int open_trace(const std::string& path) {
  if (path == "-") return STDIN_FILENO;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw sim::ConfigError(sim::quote(path) + ": cannot open the recording (" +
                           std::strerror(errno) + "); allowed: a readable file, a FIFO or -");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
    ::close(fd);
    throw sim::ConfigError(sim::quote(path) + " is " +
                           (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file or a FIFO") +
                           "; allowed: a readable file, a FIFO or -");
  }
  return fd;
}

sim::Tick duration_option(const po::variables_map& vm, const char* name) {
  const std::string text = cli::value(vm, name);
  if (text.empty()) return 0;
  const auto t = sim::parse_duration(text);
  if (!t || *t < 0 || *t > cpu::kMaxTraceWindow)
    throw sim::ConfigError(std::string("--") + name + " " + sim::quote(text) +
                           ": is not a duration; allowed: a duration string from \"0ns\" to \"" +
                           sim::format_duration(cpu::kMaxTraceWindow) +
                           "\" with a unit ps, ns, us, ms or s");
  return *t;
}

cpu::TraceFormat format_option(const std::string& text) {
  for (const cpu::TraceFormat f : {cpu::TraceFormat::kAuto, cpu::TraceFormat::kFtrace,
                                   cpu::TraceFormat::kTraceCmd, cpu::TraceFormat::kPerf})
    if (text == cpu::trace_format_name(f)) return f;
  throw sim::ConfigError("--format " + sim::quote(text) +
                         ": allowed: auto, ftrace, trace-cmd or perf");
}

std::vector<int> cpu_list(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const int cpu = static_cast<int>(cli::integer("--trace-cpus", item, 0, 65535, "CPU number"));
    for (int c : out)
      if (c == cpu)
        throw sim::ConfigError("--trace-cpus " + sim::quote(text) + ": " + item +
                               " is listed twice; allowed: each trace CPU once");
    out.push_back(cpu);
  }
  if (out.empty())
    throw sim::ConfigError("--trace-cpus \"\": allowed: a comma-separated list of CPU numbers");
  return out;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

int import(const std::vector<std::string>& args) {
  po::options_description opts(kLoadUsage);
  opts.add_options()("help,h", "show this help")(
      "output,o", po::value<std::string>(), "the imported recording to write (JSON)")(
      "format", po::value<std::string>()->default_value("auto"),
      "auto, ftrace, trace-cmd or perf (auto: told by the first event line)")(
      "trace-cpus", po::value<std::string>(),
      "the trace CPUs to keep, comma-separated (default: every CPU the recording has)")(
      "exclude", po::value<std::vector<std::string>>()->composing(),
      "a comm pattern (* for any run of characters) of the VM's own threads, left out; "
      "repeatable (default: \"CPU */KVM\", QEMU's vCPU threads)")(
      "exclude-pid", po::value<std::vector<std::string>>()->composing(),
      "a pid left out; repeatable")(
      "from", po::value<std::string>(), "start of the window after the recording's first line")(
      "duration", po::value<std::string>(), "length of the window (default: to the last line)")(
      "quiet,q", "no summary");
  const auto vm = cli::parse(args, opts, "trace");
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return cli::kExitMet;
  }
  if (!vm.count("trace")) throw po::error("load import needs a TRACE (a file, a FIFO or -)");
  const std::string out_path = cli::value(vm, "output");
  if (out_path.empty()) throw po::error("load import needs -o OUT.json");
  const std::string trace = vm["trace"].as<std::string>();
  cpu::FtraceSelection sel;
  sel.format = format_option(cli::value(vm, "format"));
  if (vm.count("trace-cpus")) sel.trace_cpus = cpu_list(cli::value(vm, "trace-cpus"));
  sel.exclude = vm.count("exclude") ? cli::values(vm, "exclude") : std::vector<std::string>{"CPU */KVM"};
  for (const std::string& pid : cli::values(vm, "exclude-pid"))
    sel.exclude_pids.push_back(
        static_cast<std::int64_t>(cli::integer("--exclude-pid", pid, 1, 4194304, "pid")));
  sel.from = duration_option(vm, "from");
  sel.duration = duration_option(vm, "duration");

  OutputFiles outputs(trace == "-" ? std::vector<std::string>{} : std::vector<std::string>{trace});
  outputs.declare("-o", out_path);
  const int fd = open_trace(trace);
  cpu::FdReader reader(fd);
  std::istream in(&reader);
  std::ostream& out = outputs.open(out_path);
  cpu::RecordingFileWriter writer(out, sel.trace_cpus);
  TraceSummary summary(writer);
  cpu::FtraceStats stats;
  cpu::FtraceGaps gaps;
  const std::string name = trace == "-" ? "<stdin>" : trace;
  sim::Tick span = 0;
  try {
    span = cpu::import_ftrace(in, name, sel, summary, &gaps, &stats);
  } catch (const cpu::FtraceError& e) {
    throw sim::ConfigError(std::string(e.what()) + "; allowed: " + e.expected);
  }
  const std::vector<int> cpus =
      sel.trace_cpus.empty() ? stats.cpus : std::vector<int>(sel.trace_cpus.begin(), sel.trace_cpus.end());
  const std::string out_name = std::filesystem::path(out_path).filename().string();
  std::vector<int> pcpus;
  for (std::size_t k = 0; k < cpus.size(); ++k) pcpus.push_back(static_cast<int>(k));
  const sim::Json fragment = {{"kind", "trace"}, {"file", out_name}, {"cpus", pcpus}};
  sim::Json selection = {{"format", cpu::trace_format_name(stats.format)},
                         {"exclude", sel.exclude},
                         {"exclude_pids", sel.exclude_pids},
                         {"from", sim::format_duration(sel.from)},
                         {"duration", sim::format_duration(sel.duration)}};
  writer.finish({{"vcpusim_recording", cpu::kRecordingFileVersion},
                 {"span_ns", span / sim::kNanosecond},
                 {"trace_cpus", cpus},
                 {"source",
                  {{"file", sim::printable(name)},
                   {"bytes", reader.bytes()},
                   {"fnv1a64", hex(reader.hash())}}},
                 {"selection", selection},
                 {"summary", summary.to_json(cpus, span)},
                 {"load", fragment}});
  outputs.commit();
  if (!vm.count("quiet")) {
    summary.print(std::cout, cpus, span, stats);
    for (int c : stats.cpus_without_switch)
      std::cout << "note: trace CPU " << c << " has no sched_switch: taken as idle\n";
    if (gaps.broken_chains > 0)
      std::cout << "note: " << gaps.broken_chains << " sched_switch lines (the first at line "
                << gaps.first_line << ") leave a CPU from a task other than the one switched in "
                << "there: the recording misses events\n";
    std::cout << "wrote " << sim::printable(out_path) << " (source " << reader.bytes()
              << " bytes, fnv1a64 " << hex(reader.hash()) << "); replay it with the host load\n  "
              << fragment.dump() << "\n";
  }
  return cli::kExitMet;
}

}  // namespace

int cmd_load(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: vcpusim load import TRACE -o OUT.json [options]\n\n"
                 "Host load tools. `vcpusim load import --help` for the options.\n";
    return args.empty() ? cli::kExitUsage : cli::kExitMet;
  }
  if (args[0] != "import")
    throw po::error("unknown load command '" + sim::printable(args[0]) + "' (allowed: import)");
  return import(std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace vcpusim::tools
