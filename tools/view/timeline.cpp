#include "tools/view/timeline.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "sim/time.hpp"
#include "tools/view/notable.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {
namespace {

using sim::Tick;

constexpr int kLabel = 12;

// One glyph per state; colours only on a terminal.
struct Glyph {
  char c;
  const char* color;  // ANSI SGR
  const char* meaning;
  int owner = -1;  // on a pCPU row: the vCPU it runs (its number may take several cells)
};
const Glyph kRunning{'#', "42;30", "running guest code"};
const Glyph kUser{'u', "102;30", "running guest code in user mode"};
const Glyph kPreempted{'p', "41;97", "preempted (runnable, not on a pCPU)"};
const Glyph kRunnable{'r', "43;30", "woken, waiting for a pCPU"};
const Glyph kHalted{'_', "2", "halted"};
const Glyph kIrq{'i', "45;97", "in an interrupt handler"};
const Glyph kNmi{'n', "105;30", "in an NMI handler"};
const Glyph kSpin{'s', "46;30", "spinning (waiting on a lock or seqcount)"};
const Glyph kIdle{'.', "2", "pCPU idle"};
const Glyph kRead{'^', "36", "a clock read finished"};
const Glyph kViolation{'!', "1;91", "violation"};
const Glyph kSpan{'=', "33", "async span (timekeeping update, lock hold, seqcount write)"};

Glyph glyph_for(const ViewSlice& s, bool pcpu) {
  if (pcpu) {
    if (s.name.rfind("vCPU", 0) == 0 && s.name.size() > 4) {
      const int k = std::atoi(s.name.c_str() + 4);
      return {k < 10 ? static_cast<char>('0' + k) : '=', "42;30", "", k};
    }
    if (s.name.rfind("load", 0) == 0) {
      const int k = std::atoi(s.name.c_str() + 4);
      return {static_cast<char>('A' + k % 26), "44;97", ""};
    }
    if (s.name == "host preemption (explore)") return {'*', "41;97", ""};
    if (s.name == "host irq" || s.name == "host softirq") return {'~', "45;97", ""};
    if (s.name.rfind("kworker", 0) == 0 || s.name.rfind("emulator", 0) == 0)
      return {'w', "44;97", ""};
    return {'?', "", ""};
  }
  if (s.name == "running") return kRunning;
  if (s.name == "preempted" || s.name == "throttled") return kPreempted;
  if (s.name == "runnable") return kRunnable;
  if (s.name == "halted" || s.name.rfind("halted", 0) == 0) return kHalted;
  if (s.name == "nmi") return kNmi;
  if (s.name == "user mode") return kUser;
  if (s.cat == "irq") return kIrq;
  if (s.cat == "spin") return kSpin;
  return {'?', "", ""};
}

std::string fmt_time(Tick t) {
  // milliseconds with microsecond-or-better precision, fixed for alignment
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6fms", static_cast<double>(t) / sim::kMillisecond);
  return buf;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Row {
  std::string label;
  std::vector<Glyph> cells;
};

class Renderer {
 public:
  Renderer(const TraceView& v, const TimelineOptions& o) : v_(v), o_(o) {
    std::stringstream in(o.kinds);
    for (std::string k; std::getline(in, k, ',');)
      if (!k.empty()) kinds_.insert(k);
    std::stringstream cin(o.cpus);
    for (std::string c; std::getline(cin, c, ',');) {
      if (c.empty()) continue;
      c = lower(c);
      if (c.size() >= 2 && (c[0] == 'p' || c[0] == 'v') &&
          std::isdigit(static_cast<unsigned char>(c[1])))
        c = std::string(c[0] == 'p' ? "pcpu" : "vcpu") + c.substr(1);
      cpus_.insert(c);
    }
    for (const auto& l : v.lanes)
      if (!l.pcpu && l.name.rfind("vCPU", 0) == 0 && std::atoi(l.name.c_str() + 4) >= 10)
        wide_ = true;
    for (const auto& c : cpus_) {
      bool found = false;
      for (const auto& l : v.lanes) found = found || lower(l.name) == c;
      if (!found) throw sim::ConfigError("--cpu: no lane '" + c + "' in the trace");
    }
  }

  bool wants(const std::string& cat) const { return kinds_.empty() || kinds_.count(cat); }
  bool shows(const ViewLane& l) const { return cpus_.empty() || cpus_.count(lower(l.name)); }

  std::string chart(Tick a, Tick b) {
    std::ostringstream out;
    const int w = o_.width;
    const double dt = static_cast<double>(b - a) / w;
    auto cell_of = [&](Tick t) {
      return std::clamp(static_cast<int>(static_cast<double>(t - a) / dt), 0, w - 1);
    };
    std::vector<Row> rows;
    for (const auto& l : v_.lanes) {
      if (!shows(l)) continue;
      Row r{l.name,
            std::vector<Glyph>(static_cast<std::size_t>(w), l.pcpu ? kIdle : Glyph{' ', "", ""})};
      std::vector<Tick> best(static_cast<std::size_t>(w), -1);
      std::vector<int> deep(static_cast<std::size_t>(w), 0);
      for (const auto& s : l.slices) {
        if (s.end < a || s.start > b || !wants(s.cat)) continue;
        const int c0 = cell_of(std::max(s.start, a)), c1 = cell_of(std::min(s.end, b));
        for (int c = c0; c <= c1; ++c) {
          const Tick cs = a + static_cast<Tick>(c * dt), ce = a + static_cast<Tick>((c + 1) * dt);
          const Tick overlap = std::min(ce, s.end) - std::max(cs, s.start);
          auto& cell = r.cells[static_cast<std::size_t>(c)];
          if (s.depth == 0) {
            if (overlap > best[static_cast<std::size_t>(c)] && (overlap > 0 || s.start == s.end)) {
              best[static_cast<std::size_t>(c)] = overlap;
              if (deep[static_cast<std::size_t>(c)] == 0 || cell.c != kRunning.c)
                cell = glyph_for(s, l.pcpu);
            }
          } else if (s.depth >= deep[static_cast<std::size_t>(c)] &&
                     (cell.c == kRunning.c || deep[static_cast<std::size_t>(c)] > 0 ||
                      cell.c == ' ')) {
            // inside running guest code, a handler or a spin shows through
            deep[static_cast<std::size_t>(c)] = s.depth;
            cell = glyph_for(s, l.pcpu);
          }
        }
      }
      if (l.pcpu && wide_) name_runs(r.cells);
      rows.push_back(std::move(r));
      if (l.pcpu) continue;
      if (wants("read")) {
        Row reads{"  reads", std::vector<Glyph>(static_cast<std::size_t>(w), Glyph{' ', "", ""})};
        bool any = false;
        auto it = std::lower_bound(l.reads.begin(), l.reads.end(), a,
                                   [](const ViewRead& r, Tick t) { return r.t < t; });
        for (; it != l.reads.end() && it->t <= b; ++it) {
          reads.cells[static_cast<std::size_t>(cell_of(it->t))] = kRead;
          any = true;
        }
        // Counted reads mark every cell they cover, but near a violation, where the trace has
        // each read one by one, only those are drawn.
        auto singles_only = [&](int c) {
          const Tick ca = a + static_cast<Tick>(c * dt), cb = a + static_cast<Tick>((c + 1) * dt);
          for (const auto& viol : v_.violations)
            if (ca >= viol.t - kSingleReadsAround && cb <= viol.t + kSingleReadsAround) return true;
          return false;
        };
        for (const ViewReadBin& r : l.read_bins) {
          if (r.end <= a || r.start > b) continue;
          for (int c = cell_of(std::max(r.start, a)); c <= cell_of(std::min(r.end, b)); ++c) {
            if (singles_only(c)) continue;
            reads.cells[static_cast<std::size_t>(c)] = kRead;
            any = true;
          }
        }
        if (any) rows.push_back(std::move(reads));
      }
    }
    if (wants("timekeeping") || wants("lock") || wants("seqcount") || wants("rcu")) {
      std::map<std::string, Row> span_rows;
      for (const auto& s : v_.spans) {
        if (s.end < a || s.start > b || !wants(s.cat)) continue;
        std::string key = s.cat == "timekeeping" ? "timekeeping" : s.name.substr(0, 10);
        auto [it, fresh] = span_rows.emplace(
            key, Row{key, std::vector<Glyph>(static_cast<std::size_t>(w), Glyph{' ', "", ""})});
        const int c0 = cell_of(std::max(s.start, a)), c1 = cell_of(std::min(s.end, b));
        for (int c = c0; c <= c1; ++c) it->second.cells[static_cast<std::size_t>(c)] = kSpan;
        if (s.start >= a) it->second.cells[static_cast<std::size_t>(c0)].c = '[';
        if (s.end <= b) it->second.cells[static_cast<std::size_t>(c1)].c = ']';
      }
      for (auto& [k, r] : span_rows) rows.push_back(std::move(r));
    }
    if (wants("violation")) {
      Row r{"violations", std::vector<Glyph>(static_cast<std::size_t>(w), Glyph{' ', "", ""})};
      bool any = false;
      for (const auto& in : v_.violations)
        if (in.t >= a && in.t <= b) {
          r.cells[static_cast<std::size_t>(cell_of(in.t))] = kViolation;
          any = true;
        }
      if (any) rows.push_back(std::move(r));
    }
    for (const auto& r : rows) {
      std::string label = r.label.substr(0, kLabel - 1);
      label.resize(kLabel, ' ');
      out << label << "|";
      for (const auto& g : r.cells) {
        if (o_.color && g.color[0] && g.c != ' ')
          out << "\x1b[" << g.color << "m" << g.c << "\x1b[0m";
        else
          out << g.c;
      }
      out << "|\n";
    }
    // time axis: ticks at 0, 1/4, 1/2, 3/4 and the end
    std::string axis(static_cast<std::size_t>(w), '-');
    std::string labels(static_cast<std::size_t>(w + kLabel + 30), ' ');
    for (int q = 0; q <= 4; ++q) {
      const int c = std::min(w - 1, q * w / 4);
      axis[static_cast<std::size_t>(c)] = '+';
      const std::string t = fmt_time(a + static_cast<Tick>(c * dt));
      std::size_t pos = static_cast<std::size_t>(kLabel + 1 + c);
      if (q == 4)
        pos = pos + 1 >= t.size() ? pos + 1 - t.size() : 0;
      else if (q > 0)
        pos -= std::min(pos, t.size() / 2);
      labels.replace(pos, t.size(), t);
    }
    while (!labels.empty() && labels.back() == ' ') labels.pop_back();
    out << std::string(kLabel, ' ') << "+" << axis << "+\n" << labels << "\n";
    return out.str();
  }

  std::string legend() const {
    std::ostringstream out;
    out << "legend: pCPU rows show which host thread runs: "
        << (wide_ ? "a vCPU's number where its run starts, then = while it runs (+ a run too "
                    "short for its number and one =), "
                  : "0-9 vCPU n, ")
        << "A.. load task 0.. (load0 = A), * injected host preemption, ~ host irq/softirq "
           "noise, w kworker or emulator thread, . idle\n";
    for (const Glyph* g : {&kRunning, &kUser, &kPreempted, &kRunnable, &kHalted, &kIrq, &kNmi,
                           &kSpin, &kRead, &kSpan, &kViolation})
      out << "  " << g->c << " " << g->meaning << "\n";
    out << "  [ ] span start/end\n";
    return out.str();
  }

 private:
  // With vCPU10 or above a vCPU's number takes several cells: each run of cells where one vCPU
  // runs starts with its number and continues with '=', at least one, so two numbers never touch
  // ("8" then "0" would read as 80); a run too short for that is all '+'.
  static void name_runs(std::vector<Glyph>& cells) {
    for (std::size_t c = 0; c < cells.size();) {
      const int who = cells[c].owner;
      std::size_t e = c + 1;
      while (e < cells.size() && who >= 0 && cells[e].owner == who) ++e;
      if (who >= 0) {
        const std::string number = std::to_string(who);
        const bool fits = e - c > number.size();
        for (std::size_t k = c; k < e; ++k)
          cells[k].c = !fits ? '+' : k - c < number.size() ? number[k - c] : '=';
      }
      c = e;
    }
  }

  const TraceView& v_;
  const TimelineOptions& o_;
  std::set<std::string> kinds_;
  std::set<std::string> cpus_;
  bool wide_ = false;  // a vCPU numbered 10 or more
};

// Depth-0 slice of a lane covering t (the latest one starting at or before t).
const ViewSlice* slice_at(const ViewLane& l, Tick t) {
  const ViewSlice* found = nullptr;
  for (const auto& s : l.slices)
    if (s.depth == 0 && s.start <= t && t <= s.end) found = &s;
  return found;
}

std::string key_events(const TraceView& v, const ViewInstant& viol, Tick a, Tick b, Tick za,
                       Tick zb) {
  std::vector<std::pair<Tick, std::string>> lines;
  auto add = [&lines](Tick t, std::string who, std::string what) {
    who.resize(8, ' ');
    lines.emplace_back(t, fmt_time(t) + "  " + who + what);
  };
  for (const auto& l : v.lanes) {
    if (!l.pcpu) continue;
    for (std::size_t i = 0; i < l.slices.size(); ++i) {
      const auto& s = l.slices[i];
      if (s.depth != 0) continue;
      if (s.start >= a && s.start <= b && s.start > v.begin) {
        const ViewSlice* prev = nullptr;
        for (std::size_t j = i; j-- > 0;)
          if (l.slices[j].depth == 0) {
            prev = &l.slices[j];
            break;
          }
        std::string what = "runs " + s.name;
        if (prev && prev->end == s.start && prev->name.rfind("vCPU", 0) == 0) {
          const ViewLane* vl = nullptr;
          for (const auto& x : v.lanes)
            if (x.name == prev->name) vl = &x;
          const ViewSlice* after = vl ? slice_at(*vl, s.start) : nullptr;
          if (vl)
            for (const auto& x : vl->slices)
              if (x.depth == 0 && x.start == s.start) after = &x;
          if (after && after->name == "preempted")
            what = s.name + " preempts " + prev->name + " (" + prev->name + " preempted on " +
                   l.name + ")";
          else
            what = "runs " + s.name + " after " + prev->name;
        }
        add(s.start, l.name + ":", what);
      }
      if (s.end >= a && s.end <= b && s.end > s.start && s.end < v.end) {
        const bool followed = i + 1 < l.slices.size() && l.slices[i + 1].start == s.end;
        if (!followed) add(s.end, l.name + ":", s.name + " stops, pCPU idle");
      }
    }
  }
  for (const auto& s : v.spans) {
    if (s.start >= a && s.start <= b) add(s.start, "", s.name + " begins");
    if (s.end >= a && s.end <= b)
      add(s.end, "", s.name + " ends" + (s.cat == "timekeeping" ? " (published)" : ""));
  }
  for (const auto& l : v.lanes) {
    if (l.pcpu) continue;
    // A handler re-opened inside the next host-state slice is a continuation, not an entry.
    std::map<std::pair<int, std::string>, Tick> ended;
    std::vector<const ViewSlice*> entries_in;
    for (const auto& s : l.slices) {
      auto it = ended.find({s.depth, s.name});
      const bool continued = it != ended.end() && it->second == s.start;
      ended[{s.depth, s.name}] = s.end;
      if (s.depth > 0 && !continued) entries_in.push_back(&s);
    }
    for (const ViewSlice* s : entries_in)
      if (s->start >= za && s->start <= zb) add(s->start, l.name, "enters " + s->name);
    for (const auto& r : l.reads)
      if (r.t >= za && r.t <= zb)
        add(r.t, l.name,
            r.name + " value_ns=" + std::to_string(r.value_ns) +
                " latency_ns=" + std::to_string(r.latency_ns));
    std::size_t entries = 0;
    for (const ViewSlice* s : entries_in) entries += s->start >= a && s->start <= b;
    if (entries <= 30)  // few enough: the handler entries of the whole window (the tick)
      for (const ViewSlice* s : entries_in)
        if (s->start >= a && s->start < za) add(s->start, l.name, "enters " + s->name);
  }
  for (const auto& l : v.lanes)
    for (const auto& in : l.instants)
      if (in.cat == "violation" && in.t >= a && in.t <= b)
        add(in.t, l.name,
            "VIOLATION " + in.args.value("check", std::string()) + ": " +
                in.args.value("message", std::string()));
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::ostringstream out;
  out << "key events:\n";
  for (const auto& [t, s] : lines) out << "  " << s << "\n";
  (void)viol;
  return out.str();
}

// Times mentioned in a violation's details (any "*_ns" number), in picoseconds.
void detail_times(const nlohmann::json& j, std::vector<Tick>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (it->is_number() && (k == "start_ns" || k == "end_ns"))
        out.push_back(static_cast<Tick>(it->get<double>() * sim::kNanosecond));
      else
        detail_times(*it, out);
    }
  }
}

// "lock X held by vCPUn" held by `lane`.
bool held_by(const ViewSpan& s, const std::string& lane) {
  const std::string by = " by " + lane;
  return s.name.size() >= by.size() && s.name.compare(s.name.size() - by.size(), by.size(), by) == 0;
}

// The window `--at` shows: the event, and for a preempted lock holder the hold and the
// preemption around it, with a margin on each side.
std::pair<Tick, Tick> notable_window(const TraceView& v, const NotableEvent& e) {
  Tick a = e.start, b = e.end;
  if (e.kind == "holder-preempted") {
    for (const auto& s : v.spans)
      if (s.cat == "lock" && s.start <= e.start && e.start <= s.end && held_by(s, e.lane)) {
        a = std::min(a, s.start);
        b = std::max(b, s.end);
      }
    for (const auto& l : v.lanes)
      if (l.name == e.lane)
        for (const auto& s : l.slices)
          if (s.depth == 0 && s.name == "preempted" && s.start <= e.start + sim::kMicrosecond &&
              s.end >= e.start)
            b = std::max(b, s.end);
  }
  const Tick pad = std::max<Tick>((b - a) / 8, 2 * sim::kMicrosecond);
  return {std::max(v.begin, a - pad), std::min(std::max(v.end, v.begin + 1), b + pad)};
}

// Options are checked before the trace is read: a typo costs no parse of a large file.
void check_options(const TimelineOptions& o) {
  if (o.width < 20 || o.width > 1000) throw sim::ConfigError("--width must be 20..1000");
  const std::set<std::string> known = {"sched", "vcpu",        "irq",      "spin",
                                       "read",  "timekeeping", "lock",     "seqcount",
                                       "flow",  "counter",     "violation", "rcu"};
  std::stringstream in(o.kinds);
  for (std::string k; std::getline(in, k, ',');)
    if (!k.empty() && !known.count(k)) throw sim::ConfigError("--kinds: unknown kind '" + k + "'");
}

}  // namespace

std::string render_timeline(const std::string& text, const TimelineOptions& o) {
  check_options(o);
  return render_timeline(parse_trace(text, o.file), o);
}

std::string render_timeline(const TraceView& v, const TimelineOptions& o) {
  check_options(o);
  Renderer r(v, o);
  auto parse_t = [](const char* what, const std::string& s) {
    auto t = sim::parse_duration(s);
    if (!t || *t > 1000 * sim::kSecond)
      throw sim::ConfigError(std::string(what) + " " + sim::quote(s) +
                             ": is not a duration; allowed: 0 to 1000s, e.g. 4ms");
    return *t;
  };
  Tick a = o.from.empty() ? v.begin : parse_t("--from", o.from);
  Tick b = o.to.empty() ? v.end : parse_t("--to", o.to);
  std::ostringstream out;
  out << "trace " << sim::printable(v.title) << " (" << v.lanes.size() << " lanes, "
      << v.violations.size() << " violation(s))\n";
  if (!o.at.empty()) {
    if (o.around_violation || !o.from.empty() || !o.to.empty())
      throw sim::ConfigError(
          "--at picks the window itself: it cannot be combined with --around-violation, --from "
          "or --to");
    const NotableList list = notable_events(v);
    const NotableEvent& e = find_notable(list, o.at);
    std::tie(a, b) = notable_window(v, e);
    out << "event " << sim::printable(o.at)
        << (o.at.find(':') == std::string::npos
                ? " (" + e.kind + ":" + std::to_string(e.index) + ")"
                : std::string())
        << " at " << fmt_time(e.start) << (e.lane.empty() ? "" : " on " + e.lane) << ": " << e.what
        << "\n\nwindow " << fmt_time(a) << " .. " << fmt_time(b) << "\n"
        << r.chart(a, b) << "\n"
        << r.legend();
    return out.str();
  }
  if (o.around_violation) {
    const int k = *o.around_violation;
    if (k < 0 || static_cast<std::size_t>(k) >= v.violations.size())
      throw sim::ConfigError("--around-violation " + std::to_string(k) + ": " +
                             (v.violations.empty()
                                  ? "the trace has no violations"
                                  : "allowed: 0 to " + std::to_string(v.violations.size() - 1) +
                                        " (the trace has " + std::to_string(v.violations.size()) +
                                        " violation(s))"));
    const ViewInstant& viol = v.violations[static_cast<std::size_t>(k)];
    const Tick t = viol.t;
    std::vector<Tick> times{t};
    detail_times(viol.args.value("details", nlohmann::json::object()), times);
    Tick za = *std::min_element(times.begin(), times.end());
    Tick zb = *std::max_element(times.begin(), times.end());
    // The causal window: async spans (timekeeping update, lock, seqcount write) that were open
    // at the violation or ended shortly before it.
    Tick ca = za, cb = zb;
    for (const auto& s : v.spans)
      if (s.start <= t && s.end + 100 * sim::kMicrosecond >= za) {
        ca = std::min(ca, s.start);
        cb = std::max(cb, s.end);
        if (s.end >= za - 10 * sim::kMicrosecond) za = std::min(za, s.end);
      }
    const Tick zpad = std::max<Tick>((zb - za) / 4, 200 * sim::kNanosecond);
    za -= zpad;
    zb += zpad;
    const Tick cpad = std::max<Tick>((cb - ca) / 20, sim::kMicrosecond);
    a = std::max(v.begin, ca - cpad);
    b = std::min(v.end, cb + cpad);
    out << "violation " << k << " at " << fmt_time(t) << ": "
        << viol.args.value("check", std::string()) << ": "
        << viol.args.value("message", std::string()) << "\n\n";
    out << "overview " << fmt_time(a) << " .. " << fmt_time(b) << "\n" << r.chart(a, b) << "\n";
    out << "zoom " << fmt_time(za) << " .. " << fmt_time(zb) << "\n" << r.chart(za, zb) << "\n";
    out << key_events(v, viol, a, b, za, zb) << "\n" << r.legend();
    return out.str();
  }
  if (b <= a) throw sim::ConfigError("empty time window (--to must be after --from)");
  out << "window " << fmt_time(a) << " .. " << fmt_time(b) << "\n"
      << r.chart(a, b) << "\n"
      << r.legend();
  return out.str();
}

}  // namespace vcpusim::tools
