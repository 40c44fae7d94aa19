#include "cpu/trace_load.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <streambuf>

#include "cpu/ftrace_import.hpp"

namespace vcpusim::cpu {
namespace {

// Reads a file descriptor through a fixed buffer: the recording streams, whatever its size.
class TraceFdReader final : public std::streambuf {
 public:
  explicit TraceFdReader(int fd) : fd_(fd) {}
  ~TraceFdReader() override { ::close(fd_); }
  TraceFdReader(const TraceFdReader&) = delete;
  TraceFdReader& operator=(const TraceFdReader&) = delete;

 protected:
  int_type underflow() override {
    for (;;) {
      const ssize_t n = ::read(fd_, buf_, sizeof buf_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return traits_type::eof();
      setg(buf_, buf_, buf_ + n);
      return traits_type::to_int_type(buf_[0]);
    }
  }

 private:
  int fd_;
  char buf_[1 << 16];
};

void require_unique_entries(const sim::Node& node, const sim::IntListParam& list, const char* what) {
  for (std::size_t i = 0; i < list.value.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (list.value[i] == list.value[j])
        node.at(list.name()).at(i).fail(std::to_string(list.value[i]) + " is listed twice",
                                        std::string("each ") + what + " once");
}

}  // namespace

void read_trace_windows(LoadParams& p, const sim::Node& node) {
  if (!node.has("file"))
    node.fail("missing key \"file\"", "the path of the recording to replay");
  for (sim::ParamBase* param : std::initializer_list<sim::ParamBase*>{
           &p.file, &p.format, &p.trace_cpus, &p.exclude, &p.exclude_pids, &p.from,
           &p.duration, &p.mode})
    if (node.has(param->name())) param->load(node.at(param->name()));
  const sim::Node file = node.at("file");
  if (p.file.value.empty()) file.fail("\"\" is empty", "the path of the recording to replay");
  if (p.cpus.value.empty()) return;  // refused by the caller, at cpus
  require_unique_entries(node, p.cpus, "pCPU");
  if (p.trace_cpus.value.empty())
    for (std::size_t k = 0; k < p.cpus.value.size(); ++k)
      p.trace_cpus.value.push_back(static_cast<std::int64_t>(k));
  else if (p.trace_cpus.value.size() != p.cpus.value.size())
    node.at("trace_cpus")
        .fail("has " + std::to_string(p.trace_cpus.value.size()) + " entries",
              "one trace CPU per pCPU of cpus (" + std::to_string(p.cpus.value.size()) + ")");
  require_unique_entries(node, p.trace_cpus, "trace CPU");

  namespace fs = std::filesystem;
  fs::path path(p.file.value);
  if (path.is_relative()) path = fs::path(node.file()).parent_path() / path;
  const std::string name = path.string();
  p.trace_path = name;
  // O_NONBLOCK: a FIFO must not block the open; only a regular file is read.
  const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    file.fail(sim::quote(name) + ": cannot open the recording (" + std::strerror(errno) + ")",
              "a readable regular file");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    file.fail(sim::quote(name) + " is " + (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file"),
              "a regular file");
  }
  TraceFdReader reader(fd);
  std::istream in(&reader);
  FtraceSelection sel;
  sel.report_form = p.format.value == TraceFormat::kTraceCmd;
  sel.trace_cpus.assign(p.trace_cpus.value.begin(), p.trace_cpus.value.end());
  sel.exclude = p.exclude.value;
  sel.exclude_pids = p.exclude_pids.value;
  sel.from = p.from.value;
  sel.duration = p.duration.value;
  FtraceGaps gaps;
  try {
    p.trace_windows = import_ftrace(in, name, sel, &gaps);
  } catch (const FtraceError& e) {
    file.fail(e.what(), e.expected);
  }
  if (gaps.broken_chains > 0)
    p.trace_warning = file.file() + ": " + file.path() + ": " + name + ": " +
                      std::to_string(gaps.broken_chains) + " sched_switch lines (the first at line " +
                      std::to_string(gaps.first_line) +
                      ") leave a CPU from a task other than the one switched in there: the "
                      "recording misses events (a tracer that filters pids, or events lost without "
                      "a LOST line); each CPU's last task switched in is taken to have run until then";
}

TraceLoadThread::TraceLoadThread(int id, std::string name, const LoadParams& params,
                                 std::size_t k, sim::Kernel& kernel, HostScheduler& scheduler)
    : HostThread(id, Kind::kLoad, std::move(name), {static_cast<int>(params.cpus.value.at(k))},
                 static_cast<int>(params.nice.value)),
      windows_(params.trace_windows.at(k)),
      mode_(params.mode.value),
      pcpu_(static_cast<int>(params.cpus.value.at(k))),
      kernel_(kernel),
      scheduler_(scheduler) {}

void TraceLoadThread::start() {
  arm();
}

void TraceLoadThread::arm() {
  if (next_ >= windows_.size()) return;
  kernel_.at(windows_[next_].first, sim::Phase::kHost, component(), [this] { arrive(); });
}

void TraceLoadThread::arrive() {
  const auto [start, end] = windows_[next_++];
  if (mode_ == TraceMode::kReserve) {
    scheduler_.steal(pcpu_, end);
  } else if (state() == ThreadState::kSleeping) {
    scheduler_.set_work(*this, end - start);  // before the wake-up, which may dispatch it
    scheduler_.wake(*this);
  } else {  // still busy with an earlier interval (a vCPU delayed it): queued behind
    scheduler_.set_work(*this, scheduler_.work_left(*this) + (end - start));
  }
  arm();
}

void TraceLoadThread::on_work_done() {
  scheduler_.sleep(*this);
}

}  // namespace vcpusim::cpu
