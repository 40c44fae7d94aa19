#include "tools/view/report_timeline.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
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
constexpr const char* kLoad = "#3b6fd4";
constexpr const char* kPreempted = "#d43b3b";
constexpr const char* kRunnable = "#e0b030";
constexpr const char* kHalted = "#b8b8b8";
constexpr const char* kIrq = "#8e44ad";
constexpr const char* kNmi = "#e05ab0";
constexpr const char* kUser = "#9ccc65";
constexpr const char* kSpin = "#1fb5c4";
constexpr const char* kRead = "#333333";
constexpr const char* kUpdate = "#7b4a12";
constexpr const char* kLock = "#607d8b";
constexpr const char* kViolation = "#ff0000";
constexpr const char* kWrites[] = {"#9e9d24", "#00796b", "#f06292", "#5c6bc0"};
}  // namespace colour

const char* fill(const ViewSlice& s, bool pcpu) {
  // A load task or an injected host preemption (explore, shrink): the host, not a vCPU, runs.
  if (pcpu)
    return s.name.rfind("load", 0) == 0 || s.name == "host preemption (explore)" ? colour::kLoad
                                                                                 : colour::kRunning;
  if (s.name == "running") return colour::kRunning;
  if (s.name == "preempted") return colour::kPreempted;
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

// "write vdso.seq by vCPU0" -> "vdso.seq"
std::string seqcount_of(const std::string& span) {
  const auto a = span.find(' ');
  const auto b = span.find(" by ");
  return a == std::string::npos ? span : span.substr(a + 1, b == std::string::npos ? b : b - a - 1);
}

struct SvgRow {
  std::string label;
  enum Kind { kLane, kReads, kWrites, kUpdates, kLocks } kind = kLane;
  const ViewLane* lane = nullptr;
};

}  // namespace

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

  std::map<std::string, const char*> write_colour;  // seqcount -> colour, by first appearance
  bool updates = false, locks = false;
  for (const auto& s : v.spans) {
    if (s.cat == "seqcount" && !write_colour.count(seqcount_of(s.name)))
      write_colour[seqcount_of(s.name)] =
          colour::kWrites[write_colour.size() % std::size(colour::kWrites)];
    updates = updates || s.cat == "timekeeping";
    locks = locks || s.cat == "lock";
  }
  std::vector<SvgRow> rows;
  for (const auto& l : v.lanes) {
    rows.push_back({l.name, SvgRow::kLane, &l});
    if (!l.reads.empty() || !l.read_bins.empty())
      rows.push_back({l.name + " reads", SvgRow::kReads, &l});
  }
  if (!write_colour.empty()) rows.push_back({"seqcount writes", SvgRow::kWrites});
  if (updates) rows.push_back({"timekeeping", SvgRow::kUpdates});
  if (locks) rows.push_back({"locks", SvgRow::kLocks});

  h << "<p class=\"legend\">";
  std::vector<std::pair<std::string, const char*>> legend{
      {"running / vCPU on pCPU", colour::kRunning},
      {"user mode", colour::kUser},
      {"load task / host preemption", colour::kLoad},
      {"preempted", colour::kPreempted},
      {"runnable", colour::kRunnable},
      {"halted", colour::kHalted},
      {"interrupt", colour::kIrq},
      {"NMI", colour::kNmi},
      {"spinning", colour::kSpin},
      {"clock reads", colour::kRead}};
  for (const auto& [name, c] : write_colour) legend.push_back({"write " + name, c});
  legend.push_back({"timekeeping update (c0 to publication)", colour::kUpdate});
  if (locks) legend.push_back({"lock held", colour::kLock});
  legend.push_back({"violation", colour::kViolation});
  for (const auto& [what, c] : legend)
    h << "<span><i style=\"background:" << c << "\"></i>" << html_escape(what) << "</span>";
  h << "</p>\n<p><button id=\"zoom-in\">zoom in</button> <button id=\"zoom-out\">zoom out"
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
  for (int i = 0; i < n; ++i)
    h << "<text x=\"4\" y=\"" << kTop + i * kLaneH + 16 << "\" font-size=\"12\">"
      << html_escape(rows[static_cast<std::size_t>(i)].label) << "</text>\n";
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
          if (s.cat == "seqcount")
            rect(s.start, s.end, y + 4, kLaneH - 8, write_colour[seqcount_of(s.name)],
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
          if (s.cat == "lock") rect(s.start, s.end, y + 4, kLaneH - 8, colour::kLock, s.name);
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
