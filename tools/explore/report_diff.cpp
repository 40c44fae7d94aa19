#include "tools/explore/report_diff.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/explore/diff_words.hpp"
#include "tools/explore/shrink.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/html_text.hpp"
#include "tools/view/report_timeline.hpp"
#include "tools/view/timeline.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {
namespace {

using sim::Tick;

DiffSide run_side(const std::string& file) {
  DiffSide side;
  side.file = file;
  side.replay = ReplayFile::load(file);
  side.replay.require_fingerprint(file);
  RunOptions o;
  o.keep_events = true;
  side.run = run_replay(side.replay, file, o);
  check_reproduced(side.replay, file, side.run.result);
  std::ostringstream trace;
  write_chrome_trace(trace, make_trace(*side.run.scenario, side.run.result, sim::TraceFilter{}),
                     sim::TraceFilter{}, side.run.scenario->duration);
  side.trace_json = trace.str();
  return side;
}

std::string event_words(const RunResult& r, const sim::RecordedEvent& e) {
  return readable_time(e.time) + " " + r.components.at(e.component).name + " " + e.kind + "(" +
         std::to_string(e.a) + ", " + std::to_string(e.b) + ")";
}

bool same_event(const RunResult& x, const sim::RecordedEvent& a, const RunResult& y,
                const sim::RecordedEvent& b) {
  return a.time == b.time && a.kind == b.kind && a.a == b.a && a.b == b.b &&
         x.components.at(a.component).name == y.components.at(b.component).name;
}

std::string failure_words(const ReplayFile& r, const RunResult& run) {
  (void)r;
  return run.failure.signature.empty()
             ? "passed"
             : run.failure.check + " at " + readable_time(run.failure.time) + ": " +
                   run.failure.message;
}

// The window the terminal charts show: a little before the divergence to past the failure.
std::pair<Tick, Tick> window(const RunDiff& d) {
  const Tick end = d.failing.run.scenario->duration;
  const Tick t = d.time;
  Tick to = t;
  for (const DiffSide* s : {&d.passing, &d.failing})
    if (!s->run.result.failure.signature.empty() && s->run.result.failure.time > to)
      to = s->run.result.failure.time;
  const Tick span = std::max<Tick>(20 * sim::kMicrosecond, to - t);
  const Tick pad = span / 8 / sim::kNanosecond * sim::kNanosecond;
  const Tick a = std::max<Tick>(0, t - pad);
  const Tick b = std::min(end, to + pad + sim::kNanosecond);
  return {a / sim::kNanosecond * sim::kNanosecond, std::max(b, a + sim::kNanosecond)};
}

const char* const kDiffScript = R"(
(function(){
  var sides=['passing','failing'].map(function(p){ var svg=document.getElementById(p+'-timeline');
    return svg&&{svg:svg,chart:document.getElementById(p+'-chart'),axis:document.getElementById(p+'-axis')}; })
    .filter(function(s){return s;});
  if(!sides.length) return;
  var t0=+sides[0].svg.dataset.begin, t1=+sides[0].svg.dataset.end, view={a:t0,b:t1};
  function fmt(ns){ if(view.b-view.a>2e6) return (ns/1e6).toFixed(3)+'ms';
    if(view.b-view.a>2e3) return (ns/1e3).toFixed(3)+'us'; return ns.toFixed(0)+'ns'; }
  function draw(){ sides.forEach(function(s){ var k=+s.svg.dataset.scale, chart=s.chart, axis=s.axis;
    chart.setAttribute('viewBox',((view.a-t0)*k)+' 0 '+Math.max(1e-6,(view.b-view.a)*k)+' '+chart.getAttribute('height'));
    while(axis.firstChild) axis.removeChild(axis.firstChild);
    var w=+chart.getAttribute('width'), x0=+chart.getAttribute('x');
    for(var i=0;i<=8;i++){ var t=view.a+(view.b-view.a)*i/8;
      var tx=document.createElementNS(s.svg.namespaceURI,'text');
      tx.setAttribute('x',x0+w*i/8); tx.setAttribute('y',14); tx.setAttribute('font-size','10');
      tx.setAttribute('text-anchor',i==0?'start':(i==8?'end':'middle')); tx.textContent=fmt(t);
      axis.appendChild(tx);} }); }
  function zoom(f,at){ view.a=Math.max(t0,at-(at-view.a)*f); view.b=Math.min(t1,at+(view.b-at)*f);
    if(view.b-view.a<1) view.b=view.a+1; draw(); }
  sides.forEach(function(s){ s.svg.addEventListener('wheel',function(e){ e.preventDefault();
    var r=s.chart.getBoundingClientRect();
    zoom(e.deltaY<0?0.8:1.25,view.a+(view.b-view.a)*(e.clientX-r.left)/r.width); }); });
  window.focusDivergence=function(){ var t=+document.body.dataset.divergence,
    span=Math.max(2000,(+document.body.dataset.until-t)*1.5);
    view.a=Math.max(t0,t-span/4); view.b=Math.min(t1,t+span); draw(); return false; };
  document.getElementById('zoom-reset').onclick=function(){ view={a:t0,b:t1}; draw(); };
  document.getElementById('zoom-divergence').onclick=window.focusDivergence;
  draw();
})();
)";

// One run's SVG timeline with its ids prefixed and the divergence marked on its chart.
std::string side_svg(const TraceView& v, const std::string& prefix, const RunDiff& d) {
  std::string svg = render_timeline_svg(v);
  // The per-run legend and zoom buttons are replaced by the page's own (one set for both).
  const auto box = svg.find("<div id=\"timeline-box\">");
  if (box != std::string::npos) svg = svg.substr(box);
  for (std::size_t at = 0; (at = svg.find("id=\"", at)) != std::string::npos; at += 4)
    svg.insert(at + 4, prefix + "-");
  if (d.diverged) {
    const double span_ns =
        static_cast<double>(std::max<Tick>(v.end - v.begin, 1)) / sim::kNanosecond;
    char x[48];
    std::snprintf(x, sizeof x, "%.4f",
                  static_cast<double>(d.time - v.begin) / sim::kNanosecond * 1e6 / span_ns);
    const std::string marker =
        std::string("<line class=\"divergence-mark\" x1=\"") + x + "\" x2=\"" + x +
        "\" y1=\"0\" y2=\"10000\" stroke=\"#ff7f00\" stroke-width=\"3\" stroke-dasharray=\"6 3\" "
        "vector-effect=\"non-scaling-stroke\"><title>first divergence at " +
        html_escape(readable_time(d.time)) + ", caused by " + html_escape(d.cause()) + "</title></line>\n";
    const auto close = svg.rfind("</svg></svg>");
    if (close != std::string::npos) svg.insert(close, marker);
  }
  return svg;
}

}  // namespace

std::string RunDiff::cause() const {
  if (causes.empty()) return "nothing in the replay files";
  std::string out;
  for (std::size_t i = 0; i < causes.size(); ++i) out += (i ? "; " : "") + causes[i];
  return out;
}

std::vector<std::string> replay_differences(const ReplayFile& p, const ReplayFile& f) {
  std::vector<std::string> out;
  const auto& pd = p.schedule.decisions;
  const auto& fd = f.schedule.decisions;
  for (const auto& [k, v] : fd) {
    const auto it = pd.find(k);
    if (it == pd.end())
      out.push_back(describe_decision(k, v) + " in the failing run (the default draw in the " +
                    "passing one)");
    else if (it->second != v)
      out.push_back(describe_decision(k, v) + " in the failing run, " + std::to_string(it->second) +
                    " in the passing one");
  }
  for (const auto& [k, v] : pd)
    if (!fd.count(k))
      out.push_back(describe_decision(k, v) + " in the passing run (the default draw in the " +
                    "failing one)");
  auto only = [&](const Schedule& a, const Schedule& b, const char* which) {
    for (const auto& in : a.injections)
      if (std::find(b.injections.begin(), b.injections.end(), in) == b.injections.end())
        out.push_back(describe_injection(in) + " only in the " + which + " run");
  };
  only(f.schedule, p.schedule, "failing");
  only(p.schedule, f.schedule, "passing");
  if (p.schedule.counted_words != f.schedule.counted_words)
    out.push_back("the counted shared words (which accesses an injection counts)");
  for (const auto& op : sim::Json::diff(p.scenario, f.scenario))
    out.push_back("scenario value " + op.value("path", std::string()) + " (" +
                  op.value("op", std::string()) + ")");
  return out;
}

RunDiff diff_replays(const std::string& passing_file, const std::string& failing_file) {
  RunDiff d;
  d.passing = run_side(passing_file);
  d.failing = run_side(failing_file);
  d.causes = replay_differences(d.passing.replay, d.failing.replay);
  const RunResult& p = d.passing.run.result;
  const RunResult& f = d.failing.run.result;
  std::size_t i = 0;
  while (i < p.events.size() && i < f.events.size() && same_event(p, p.events[i], f, f.events[i]))
    ++i;
  if (i < p.events.size() || i < f.events.size()) {
    d.diverged = true;
    const bool hp = i < p.events.size(), hf = i < f.events.size();
    d.time = hp && hf ? std::min(p.events[i].time, f.events[i].time)
                      : (hp ? p.events[i].time : f.events[i].time);
    d.passing_event = hp ? event_words(p, p.events[i]) : "(no more events)";
    d.failing_event = hf ? event_words(f, f.events[i]) : "(no more events)";
    d.words = divergence_sentence(p, hp ? &p.events[i] : nullptr, f, hf ? &f.events[i] : nullptr);
  }
  return d;
}

std::string render_diff_html(const RunDiff& d) {
  std::ostringstream h;
  const Tick until = d.failing.run.result.failure.signature.empty()
                         ? d.failing.run.scenario->duration
                         : d.failing.run.result.failure.time;
  // Scripts: only the page's own inline one (input text is escaped into element text only).
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
    << "<title>vcpusim diff: " << html_escape(d.passing.file) << " vs "
    << html_escape(d.failing.file) << "</title>\n<style>\n"
    << "body{font-family:system-ui,-apple-system,\"DejaVu Sans\",sans-serif;margin:1.5em;"
       "color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.4em}\n"
       ".timeline-box{border:1px solid #999;background:#fff}svg{display:block;width:100%}\n"
       ".divergence{background:#fff0dd;border-left:4px solid #ff7f00;padding:.4em .8em}\n"
       "code{font-size:.9em}\n.legend p{margin:.3em 0}.legend span{display:inline-block;"
       "margin-right:1em;font-size:.85em}.legend i{display:inline-block;width:12px;height:12px;"
       "margin-right:4px;vertical-align:middle}.hidden-note{color:#666}\n"
       "</style></head>\n<body data-divergence=\""
    << static_cast<double>(d.time) / sim::kNanosecond << "\" data-until=\""
    << static_cast<double>(until) / sim::kNanosecond << "\">\n"
    << "<h1>vcpusim diff: the nearest passing run beside the failing one</h1>\n"
    << "<div class=\"divergence\" id=\"divergence\">";
  if (d.diverged)
    h << "<p id=\"divergence-words\"><b>First divergence.</b> " << html_escape(d.words)
      << "</p>\n<details><summary>the two records</summary><p>passing <code>"
      << html_escape(d.passing_event) << "</code>, failing <code>" << html_escape(d.failing_event)
      << "</code></p></details>\n";
  else
    h << "<p><b>no divergence</b>: both runs recorded the same events</p>\n";
  h << "<p>caused by: <span id=\"cause\">" << html_escape(d.cause()) << "</span></p></div>\n"
    << "<p><button id=\"zoom-divergence\">zoom to the divergence</button> <button "
       "id=\"zoom-reset\">whole run</button> (mouse wheel zooms both timelines; the dashed "
       "orange line is the divergence, red lines are violations)</p>\n";
  const TraceView views[] = {parse_trace(d.passing.trace_json, d.passing.file),
                             parse_trace(d.failing.trace_json, d.failing.file)};
  // One legend for both timelines: what either holds, and the two marks of this page.
  std::string legend = render_timeline_legend({&views[0], &views[1]});
  legend.insert(legend.rfind("</div>"),
                "<p><b>marks</b>: <span><i style=\"background:#ff7f00\"></i>first divergence "
                "(dashed line on both timelines)</span></p>\n");
  h << legend;
  for (const DiffSide* side : {&d.passing, &d.failing}) {
    const char* prefix = side == &d.passing ? "passing" : "failing";
    h << "<h2>" << prefix << ": " << html_escape(side->file) << " &mdash; "
      << html_escape(failure_words(side->replay, side->run.result))
      << "</h2>\n<p>origin: " << html_escape(side->replay.origin) << ", fingerprint "
      << html_escape(side->run.result.document.value("fingerprint", std::string())) << "</p>\n"
      << side_svg(views[side == &d.passing ? 0 : 1], prefix, d);
  }
  h << "<script>" << kDiffScript << "</script>\n</body></html>\n";
  return h.str();
}

std::string render_diff_timeline(const RunDiff& d, int width) {
  std::ostringstream out;
  // For the terminal: file names, events and causes carry input text (sim::printable).
  using sim::printable;
  if (d.diverged)
    out << "first divergence at " << readable_time(d.time) << ": passing "
        << printable(d.passing_event) << ", failing " << printable(d.failing_event)
        << ", caused by " << printable(d.cause()) << "\n"
        << printable(d.words) << "\n";
  else
    out << "no divergence: both runs recorded the same events (differences: "
        << printable(d.cause()) << ")\n";
  const auto [a, b] = window(d);
  const int col = static_cast<int>(
      std::min<__int128>(width - 1, static_cast<__int128>(d.time - a) * width / (b - a)));
  constexpr int kLabel = 12;  // tools/view/timeline.cpp's row label width
  for (const DiffSide* s : {&d.passing, &d.failing}) {
    TimelineOptions o;
    o.from = sim::format_duration(a);
    o.to = sim::format_duration(b);
    o.width = width;
    o.file = s->file;
    std::string chart = render_timeline(s->trace_json, o);
    const auto legend = chart.find("legend:");
    const std::string tail = legend == std::string::npos ? "" : chart.substr(legend);
    if (legend != std::string::npos) chart.resize(legend);
    out << "\n"
        << (s == &d.passing ? "passing" : "failing") << " run " << printable(s->file) << ": "
        << printable(failure_words(s->replay, s->run.result)) << "\n";
    std::istringstream lines(chart);
    bool marked = false;
    for (std::string line; std::getline(lines, line);) {
      const bool row = static_cast<int>(line.size()) == kLabel + width + 2 && line[kLabel] == '|' &&
                       line.back() == '|';
      if (row && !marked) {
        out << std::string(kLabel + 1 + col, ' ') << "v first divergence\n";
        marked = true;
      }
      if (row && d.diverged && line[static_cast<std::size_t>(kLabel + 1 + col)] == ' ')
        line[static_cast<std::size_t>(kLabel + 1 + col)] = ':';
      out << line << "\n";
    }
    if (s == &d.failing) out << "\n" << tail;
  }
  return out.str();
}

}  // namespace vcpusim::tools
