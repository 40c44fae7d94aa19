#include "tools/view/report_timeline.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "sim/time.hpp"
#include "tools/view/html_text.hpp"

namespace vcpusim::tools {
namespace {

using sim::Tick;

std::string precise(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

// One hue per meaning, far enough apart to tell at a glance (runnable amber vs the update's
// brown, preempted red vs the violation line's pure red drawn on top of everything).
namespace colour {
constexpr const char* kRunning = "#2e9e55";
constexpr const char* kPreempted = "#d43b3b";
constexpr const char* kRunnable = "#e0b030";
constexpr const char* kHalted = "#b8b8b8";
constexpr const char* kIrq = "#8e44ad";
constexpr const char* kNmi = "#e05ab0";
constexpr const char* kUser = "#9ccc65";
constexpr const char* kSpin = "#1fb5c4";
constexpr const char* kRead = "#333333";
constexpr const char* kUpdate = "#7b4a12";
constexpr const char* kViolation = "#ff0000";
constexpr const char* kHolderPreempted = "#7a0019";
constexpr const char* kKick = "#ff8c00";
constexpr const char* kWrites[] = {"#9e9d24", "#00796b", "#f06292", "#5c6bc0"};
// pCPU lanes, lock holds and grace periods take the colour of their vCPU (by number, wrapping
// past twelve); host tasks (load, noise, injected preemption) one neutral grey.
constexpr const char* kVcpus[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                                  "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173"};
constexpr const char* kHost = "#9e9e9e";
}  // namespace colour

const char* vcpu_colour(int k) {
  return colour::kVcpus[static_cast<std::size_t>(k) % std::size(colour::kVcpus)];
}

// The k of "vCPUk" at `at` in `name`, or -1.
int vcpu_in(const std::string& name, std::size_t at = 0) {
  if (name.compare(at, 4, "vCPU") != 0 || at + 4 >= name.size() ||
      !std::isdigit(static_cast<unsigned char>(name[at + 4])))
    return -1;
  return std::atoi(name.c_str() + at + 4);
}

// The holder of "lock X held by vCPUk" / "write X by vCPUk", or -1.
int holder_of(const std::string& span) {
  const auto by = span.rfind(" by ");
  return by == std::string::npos ? -1 : vcpu_in(span, by + 4);
}

const char* fill(const ViewSlice& s, bool pcpu) {
  if (pcpu) {
    const int k = vcpu_in(s.name);
    return k >= 0 ? vcpu_colour(k) : colour::kHost;
  }
  if (s.name == "running") return colour::kRunning;
  if (s.name == "preempted" || s.name == "throttled") return colour::kPreempted;
  if (s.name == "runnable") return colour::kRunnable;
  if (s.name.rfind("halted", 0) == 0) return colour::kHalted;
  if (s.name == "nmi") return colour::kNmi;
  if (s.name == "user mode") return colour::kUser;
  if (s.cat == "irq") return colour::kIrq;
  if (s.cat == "spin") return colour::kSpin;
  return "#777777";
}

constexpr int kLaneH = 24;
constexpr int kTop = 24;
constexpr std::size_t kMaxRects = 60000;
constexpr double kUnits = 1e6;
constexpr int kDensityBins = 2000;
constexpr Tick kMarksAround = 20 * sim::kMicrosecond;  // reads drawn one by one near a violation
constexpr std::size_t kMaxLockRows = 8;                // more locks share one row

// "write vdso.seq by vCPU0" -> "vdso.seq"; "lock lock0.val held by vCPU1" -> "lock0.val"
std::string object_of(const std::string& span) {
  const auto a = span.find(' ');
  auto b = span.find(" held by ");
  if (b == std::string::npos) b = span.find(" by ");
  return a == std::string::npos ? span : span.substr(a + 1, b == std::string::npos ? b : b - a - 1);
}

// What a trace holds, so the legend and the rows name only that.
struct Contents {
  std::set<std::string> states;  // vCPU lane slice meanings present (legend words)
  std::set<int> vcpus_on_pcpus;  // vCPUs some pCPU ran
  bool host_tasks = false, reads = false, updates = false, kicks = false, holder_preempted = false;
  bool violations = false, grace_periods = false;
  std::map<std::string, const char*> write_colour;  // seqcount -> colour, by name
  std::set<std::string> locks;
  std::size_t hidden_updates = 0, hidden_writes = 0;  // the tick's, in a run that reads no clock

  explicit Contents(const std::vector<const TraceView*>& views) {
    for (const TraceView* v : views) {
      for (const auto& l : v->lanes) {
        reads = reads || !l.reads.empty() || !l.read_bins.empty();
        for (const auto& s : l.slices) {
          if (l.pcpu) {
            const int k = vcpu_in(s.name);
            if (k >= 0) vcpus_on_pcpus.insert(k);
            host_tasks = host_tasks || k < 0;
          } else {
            states.insert(state_word(s));
          }
        }
        for (const auto& in : l.instants)
          holder_preempted = holder_preempted ||
                             (in.cat == "lock" && in.name.rfind("lock holder preempted", 0) == 0);
      }
      violations = violations || !v->violations.empty();
      for (const auto& f : v->flows) kicks = kicks || f.name == "pv kick";
    }
    for (const TraceView* v : views)
      for (const auto& s : v->spans) {
        // The guest's tick updates the clock in every run; drawn only when a vCPU reads it.
        if (s.cat == "timekeeping") reads ? void(updates = true) : void(++hidden_updates);
        if (s.cat == "seqcount") {
          const std::string what = object_of(s.name);
          if (!reads && (what == "tk_core.seq" || what == "vdso.seq")) {
            ++hidden_writes;
          } else if (!write_colour.count(what)) {
            const std::size_t n = write_colour.size();
            write_colour[what] = colour::kWrites[n % std::size(colour::kWrites)];
          }
        }
        if (s.cat == "lock") locks.insert(object_of(s.name));
        grace_periods = grace_periods || (s.cat == "rcu" && s.name == "RCU GP");
      }
    states.erase("");
  }

  static std::string state_word(const ViewSlice& s) {
    if (s.name == "running") return "running";
    if (s.name == "preempted" || s.name == "throttled") return "preempted";
    if (s.name == "runnable") return "runnable";
    if (s.name.rfind("halted", 0) == 0) return "halted";
    if (s.name == "nmi") return "NMI";
    if (s.name == "user mode") return "user mode";
    if (s.cat == "irq") return "interrupt";
    if (s.cat == "spin") return "spinning";
    return "";
  }
};

struct SvgRow {
  enum Kind { kLane, kReads, kWrites, kUpdates, kLocks, kGracePeriods };
  SvgRow(std::string label_, Kind kind_, const ViewLane* lane_ = nullptr, std::string lock_ = {})
      : label(std::move(label_)), kind(kind_), lane(lane_), lock(std::move(lock_)) {}
  std::string label;
  Kind kind;
  const ViewLane* lane;
  std::string lock;  // kLocks: the lock, "" for all
};

void swatch(std::ostream& h, const char* c, const std::string& what, const char* shape = "") {
  h << "<span><i" << shape << " style=\"background:" << c << "\"></i>" << html_escape(what)
    << "</span>";
}

}  // namespace

std::string render_timeline_legend(const std::vector<const TraceView*>& views) {
  const Contents c(views);
  std::ostringstream h;
  h << "<div class=\"legend\" id=\"legend\">\n";
  if (!c.vcpus_on_pcpus.empty() || c.host_tasks) {
    h << "<p><b>pCPU lanes</b>, coloured by the vCPU they run: ";
    for (int k : c.vcpus_on_pcpus) swatch(h, vcpu_colour(k), "vCPU" + std::to_string(k));
    if (c.host_tasks) swatch(h, colour::kHost, "host task (load, noise, injected preemption)");
    h << "</p>\n";
  }
  static const std::vector<std::pair<std::string, const char*>> states{
      {"running", colour::kRunning},
      {"user mode", colour::kUser},
      {"preempted", colour::kPreempted},
      {"runnable", colour::kRunnable},
      {"halted", colour::kHalted},
      {"interrupt", colour::kIrq},
      {"NMI", colour::kNmi},
      {"spinning", colour::kSpin}};
  if (!c.states.empty()) {
    h << "<p><b>vCPU lanes</b> (the host state above, the guest's handlers, spins and halts "
         "below): ";
    for (const auto& [word, col] : states)
      if (c.states.count(word)) swatch(h, col, word);
    if (c.kicks) swatch(h, colour::kKick, "pv kick received");
    if (c.holder_preempted) swatch(h, colour::kHolderPreempted, "lock holder preempted");
    h << "</p>\n";
  }
  std::ostringstream rows;
  if (c.reads) swatch(rows, colour::kRead, "clock reads");
  for (const auto& [name, col] : c.write_colour) swatch(rows, col, "write " + name);
  if (c.updates) swatch(rows, colour::kUpdate, "timekeeping update (c0 to publication)");
  if (!c.locks.empty()) rows << "<span>lock held: the colour of the holding vCPU</span>";
  if (c.grace_periods)
    rows << "<span>RCU grace period: the colour of the vCPU that held it (the last to report a "
            "quiescent state)</span>";
  if (c.violations) swatch(rows, colour::kViolation, "violation");
  if (!rows.str().empty()) h << "<p><b>other rows</b>: " << rows.str() << "</p>\n";
  if (c.hidden_updates || c.hidden_writes)
    h << "<p class=\"hidden-note\">Not drawn: " << c.hidden_updates << " timekeeping update(s) and "
      << c.hidden_writes
      << " seqcount write section(s) of the guest's tick (no vCPU reads the clock in this "
         "run).</p>\n";
  h << "</div>\n";
  return h.str();
}

std::string render_timeline_svg(const TraceView& v) {
  std::ostringstream h;
  const Tick begin = v.begin, end = std::max(v.end, v.begin + 1);
  const double span_ns = static_cast<double>(end - begin) / sim::kNanosecond;
  const double scale = kUnits / span_ns;  // chart units per ns
  auto x_of = [&](Tick t) {
    return html_number(static_cast<double>(t - begin) / sim::kNanosecond * scale);
  };
  auto w_of = [&](Tick a, Tick b) {
    return html_number(std::max(static_cast<double>(b - a) / sim::kNanosecond * scale, 0.001));
  };
  std::size_t total = 0;
  for (const auto& l : v.lanes) total += l.slices.size();
  // Volume: beyond kMaxRects, slices shorter than this are left out (they would be sub-pixel).
  const Tick min_dur = total > kMaxRects ? (end - begin) / 20000 : 0;

  const Contents c({&v});
  std::vector<SvgRow> rows;
  for (const auto& l : v.lanes) {
    rows.push_back({l.name, SvgRow::kLane, &l});
    if (!l.reads.empty() || !l.read_bins.empty())
      rows.push_back({l.name + " reads", SvgRow::kReads, &l});
  }
  if (!c.write_colour.empty()) rows.push_back({"seqcount writes", SvgRow::kWrites});
  if (c.updates) rows.push_back({"timekeeping", SvgRow::kUpdates});
  if (c.locks.size() > kMaxLockRows)
    rows.push_back({"locks", SvgRow::kLocks});
  else
    for (const auto& lock : c.locks) rows.push_back({lock, SvgRow::kLocks, nullptr, lock});
  if (c.grace_periods) rows.push_back({"RCU grace periods", SvgRow::kGracePeriods});
  // The vCPU whose quiescent state ended a grace period, by the time it ended.
  std::map<Tick, int> gp_holder;
  for (const auto& l : v.lanes)
    for (const auto& in : l.instants)
      if (in.cat == "rcu" && in.name == "GP waited for this vCPU")
        gp_holder[in.t] = vcpu_in(l.name);

  h << render_timeline_legend({&v});
  h << "<p><button id=\"zoom-in\">zoom in</button> <button id=\"zoom-out\">zoom out"
       "</button> <button id=\"zoom-reset\">reset</button> (mouse wheel zooms, drag pans; the "
       "guest's handlers are the thin bars under a vCPU's host state)</p>\n";

  const int label_w = 130, chart_w = 1000;
  const int n = static_cast<int>(rows.size());
  const int height = kTop + n * kLaneH + 4;
  h << "<div id=\"timeline-box\"><svg id=\"timeline\" width=\"" << label_w + chart_w
    << "\" height=\"" << height << "\" viewBox=\"0 0 " << label_w + chart_w << " " << height
    << "\" data-begin=\"" << precise(static_cast<double>(begin) / sim::kNanosecond)
    << "\" data-end=\"" << precise(static_cast<double>(end) / sim::kNanosecond)
    << "\" data-scale=\"" << precise(scale) << "\">\n<g id=\"axis\"></g>\n";
  for (int i = 0; i < n; ++i) {
    const SvgRow& row = rows[static_cast<std::size_t>(i)];
    if (row.lane && !row.lane->pcpu && row.kind == SvgRow::kLane && vcpu_in(row.label) >= 0)
      h << "<rect class=\"vcpu-swatch\" x=\"2\" y=\"" << kTop + i * kLaneH + 6
        << "\" width=\"8\" height=\"12\" fill=\"" << vcpu_colour(vcpu_in(row.label)) << "\"/>\n";
    h << "<text x=\"13\" y=\"" << kTop + i * kLaneH + 16 << "\" font-size=\"12\">"
      << html_escape(row.label) << "</text>\n";
  }
  // Chart units: the whole window is kUnits wide (browsers clamp SVG lengths near 2^25).
  h << "<svg id=\"chart\" x=\"" << label_w << "\" y=\"" << kTop << "\" width=\"" << chart_w
    << "\" height=\"" << n * kLaneH << "\" viewBox=\"0 0 " << html_number(kUnits) << " "
    << n * kLaneH << "\" preserveAspectRatio=\"none\">\n";

  auto rect = [&](Tick a, Tick b, int y, int hgt, const char* c, const std::string& title,
                  const char* cls = nullptr) {
    h << "<rect";
    if (cls) h << " class=\"" << cls << "\"";
    h << " x=\"" << x_of(a) << "\" y=\"" << y << "\" width=\"" << w_of(a, b) << "\" height=\""
      << hgt << "\" fill=\"" << c << "\"><title>" << html_escape(title) << "</title></rect>\n";
  };
  auto mark = [&](Tick t, int y1, int y2, const char* col, int width, const char* cls,
                  const std::string& title) {
    h << "<line class=\"" << cls << "\" x1=\"" << x_of(t) << "\" x2=\"" << x_of(t) << "\" y1=\""
      << y1 << "\" y2=\"" << y2 << "\" stroke=\"" << col << "\" stroke-width=\"" << width
      << "\" vector-effect=\"non-scaling-stroke\"><title>" << html_escape(title)
      << "</title></line>\n";
  };
  for (int i = 0; i < n; ++i) {
    const SvgRow& row = rows[static_cast<std::size_t>(i)];
    const int y = i * kLaneH;
    switch (row.kind) {
      case SvgRow::kLane:
        // The host state fills the upper part; the guest's handlers, spins and halts nested in it
        // go in a strip below it, so a handler interrupted by preemption stays visible.
        for (const auto& s : row.lane->slices) {
          if (s.end - s.start < min_dur) continue;
          const bool nested = s.depth > 0;
          const int top =
              row.lane->pcpu ? y + 2 : (nested ? y + 16 + std::min(s.depth - 1, 1) * 3 : y + 2);
          const int hgt = row.lane->pcpu ? kLaneH - 4 : (nested ? 6 : 13);
          rect(s.start, s.end, top, hgt, fill(s, row.lane->pcpu), row.lane->name + ": " + s.name);
        }
        for (const auto& in : row.lane->instants)
          if (in.cat == "lock" && in.name.rfind("lock holder preempted", 0) == 0)
            mark(in.t, y, y + kLaneH, colour::kHolderPreempted, 3, "holder-preempted-mark",
                 row.lane->name + ": " + in.name + " at " + sim::format_duration(in.t));
        for (const auto& f : v.flows)
          if (f.name == "pv kick" && f.to_tid == row.lane->tid) {
            const ViewLane* from = v.lane_by_tid(f.from_tid);
            mark(f.end, y + 14, y + kLaneH, colour::kKick, 1, "kick-mark",
                 "pv kick" + (from ? " from " + from->name : std::string()) + " at " +
                     sim::format_duration(f.end));
          }
        break;
      case SvgRow::kReads: {
        // Density strip: reads per bin, darker where more; a bin with any read is visible.
        std::vector<std::uint64_t> bins(kDensityBins, 0);
        auto bin_of = [&](Tick t) {
          return std::min<std::size_t>(
              static_cast<std::size_t>((t - begin) * kDensityBins / (end - begin)),
              kDensityBins - 1);
        };
        if (row.lane->read_bins.empty())  // else the counter holds these reads too
          for (const auto& r : row.lane->reads)
            if (r.t >= begin && r.t <= end) ++bins[bin_of(r.t)];
        // Counted reads (the default trace): spread evenly over the strip bins they cover.
        for (const auto& r : row.lane->read_bins) {
          const Tick a = std::max(r.start, begin), z = std::min(r.end, end);
          if (z <= a || r.end <= r.start) continue;
          for (std::size_t b = bin_of(a); b <= bin_of(z - 1); ++b) {
            const Tick ba = begin + static_cast<Tick>(b) * (end - begin) / kDensityBins;
            const Tick bz = begin + static_cast<Tick>(b + 1) * (end - begin) / kDensityBins;
            const Tick overlap = std::min(bz, z) - std::max(ba, a);
            bins[b] += static_cast<std::uint64_t>(
                (static_cast<__int128>(r.count) * overlap + (r.end - r.start) - 1) /
                (r.end - r.start));
          }
        }
        const std::uint64_t most =
            std::max<std::uint64_t>(*std::max_element(bins.begin(), bins.end()), 1);
        for (std::size_t b = 0; b < bins.size(); ++b) {
          if (!bins[b]) continue;
          const Tick a = begin + static_cast<Tick>(b) * (end - begin) / kDensityBins;
          const Tick z = begin + static_cast<Tick>(b + 1) * (end - begin) / kDensityBins;
          h << "<rect class=\"read-density\" x=\"" << x_of(a) << "\" y=\"" << y + 3 << "\" width=\""
            << w_of(a, z) << "\" height=\"8\" fill=\"" << colour::kRead << "\" fill-opacity=\""
            << html_number(0.2 + 0.8 * static_cast<double>(bins[b]) / static_cast<double>(most))
            << "\"><title>" << bins[b] << " reads</title></rect>\n";
        }
        // The reads around each violation, one mark each; the violating pair in red.
        for (const auto& viol : v.violations) {
          const auto& d = viol.args.value("details", nlohmann::json::object());
          std::vector<Tick> pair;
          for (const char* k : {"earlier", "later"})
            if (d.contains(k) && d[k].is_object())
              pair.push_back(static_cast<Tick>(d[k].value("end_ns", 0.0) * sim::kNanosecond + 0.5));
          for (const auto& r : row.lane->reads) {
            if (r.t + kMarksAround < viol.t || r.t > viol.t + kMarksAround) continue;
            bool bad = false;
            for (Tick p : pair) bad = bad || (r.t >= p - 2000 && r.t <= p + 2000);
            h << "<line class=\"read-mark\" x1=\"" << x_of(r.t) << "\" x2=\"" << x_of(r.t)
              << "\" y1=\"" << y + 12 << "\" y2=\"" << y + kLaneH - 2 << "\" stroke=\""
              << (bad ? colour::kViolation : colour::kRead)
              << "\" stroke-width=\"1\" vector-effect=\"non-scaling-stroke\"><title>"
              << html_escape(r.name) << " at " << html_escape(sim::format_duration(r.t)) << ": "
              << r.value_ns << " ns</title></line>\n";
          }
        }
        break;
      }
      case SvgRow::kWrites:
        for (const auto& s : v.spans)
          if (s.cat == "seqcount" && c.write_colour.count(object_of(s.name)))
            rect(s.start, s.end, y + 4, kLaneH - 8, c.write_colour.at(object_of(s.name)),
                 s.name + " (" + sim::format_duration(s.end - s.start) + ")");
        break;
      case SvgRow::kUpdates:
        for (const auto& s : v.spans)
          if (s.cat == "timekeeping")
            rect(s.start, s.end, y + 4, kLaneH - 8, colour::kUpdate,
                 s.name + ": clock read (c0) at " + sim::format_duration(s.start) +
                     ", published at " + sim::format_duration(s.end) + " (" +
                     sim::format_duration(s.end - s.start) + " later)",
                 "update-span");
        break;
      case SvgRow::kLocks:
        for (const auto& s : v.spans)
          if (s.cat == "lock" && (row.lock.empty() || object_of(s.name) == row.lock)) {
            const int k = holder_of(s.name);
            rect(s.start, s.end, y + 4, kLaneH - 8, k >= 0 ? vcpu_colour(k) : colour::kHost,
                 s.name + " (" + sim::format_duration(s.end - s.start) + ")", "lock-span");
          }
        break;
      case SvgRow::kGracePeriods:
        for (const auto& s : v.spans)
          if (s.cat == "rcu" && s.name == "RCU GP") {
            const auto it = gp_holder.find(s.end);
            const int k = it == gp_holder.end() ? -1 : it->second;
            rect(s.start, s.end, y + 4, kLaneH - 8, k >= 0 ? vcpu_colour(k) : colour::kHost,
                 "grace period of " + sim::format_duration(s.end - s.start) +
                     (k >= 0 ? ", held by vCPU" + std::to_string(k) : std::string()),
                 "gp-span");
          }
        break;
    }
  }
  std::size_t k = 0;
  for (const auto& in : v.violations) {
    h << "<line class=\"violation-mark\" x1=\"" << x_of(in.t) << "\" x2=\"" << x_of(in.t)
      << "\" y1=\"0\" y2=\"" << n * kLaneH << "\" stroke=\"" << colour::kViolation
      << "\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\">"
      << "<title>violation " << k++ << ": " << html_escape(in.args.value("message", std::string()))
      << "</title></line>\n";
  }
  h << "</svg></svg></div>\n";
  if (min_dur > 0)
    h << "<p>" << total << " slices; those shorter than " << sim::format_duration(min_dur)
      << " are left out of this view (the full trace opens in Perfetto).</p>\n";
  return h.str();
}

}  // namespace vcpusim::tools
