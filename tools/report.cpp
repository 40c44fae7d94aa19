#include "tools/report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/error.hpp"
#include "sim/time.hpp"
#include "tools/trace_view.hpp"

namespace vcpusim::tools {
namespace {

using sim::Tick;

std::string esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&':
        r += "&amp;";
        break;
      case '<':
        r += "&lt;";
        break;
      case '>':
        r += "&gt;";
        break;
      case '"':
        r += "&quot;";
        break;
      default:
        r += c;
    }
  }
  return r;
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string precise(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

const char* fill(const ViewSlice& s, bool pcpu) {
  if (pcpu) return s.name.rfind("load", 0) == 0 ? "#3b6fd4" : "#2e9e55";
  if (s.name == "running") return "#2e9e55";
  if (s.name == "preempted") return "#d43b3b";
  if (s.name == "runnable") return "#e0b030";
  if (s.name.rfind("halted", 0) == 0) return "#b8b8b8";
  if (s.name == "nmi") return "#e05ab0";
  if (s.cat == "irq") return "#8e44ad";
  if (s.cat == "spin") return "#1fb5c4";
  return "#777777";
}

constexpr int kLaneH = 22;
constexpr int kTop = 24;
constexpr std::size_t kMaxRects = 60000;
constexpr double kUnits = 1e6;

const char* const kStyle = R"(
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#c0392b;font-weight:bold}
#timeline-box{border:1px solid #999;background:#fff;user-select:none}
#timeline{display:block;width:100%;cursor:grab}
.legend span{display:inline-block;margin-right:1em;font-size:.85em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
tr.violation.current{background:#ffe9a8}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;font-size:.8em}
.metrics{columns:2;font-size:.85em}
)";

const char* const kScript = R"(
(function(){
  var svg=document.getElementById('timeline'); if(!svg) return;
  var chart=document.getElementById('chart'), axis=document.getElementById('axis');
  var t0=+svg.dataset.begin, t1=+svg.dataset.end;  // ns
  var view={a:t0,b:t1};
  function fmt(ns){ if(Math.abs(t1-t0)>2e6) return (ns/1e6).toFixed(3)+'ms';
    if(Math.abs(t1-t0)>2e3) return (ns/1e3).toFixed(3)+'us'; return ns.toFixed(0)+'ns'; }
  function draw(){
    var k=+svg.dataset.scale;  // chart units per ns (the chart is 0..1e6 units wide)
    chart.setAttribute('viewBox',((view.a-t0)*k)+' 0 '+Math.max(1e-6,(view.b-view.a)*k)+' '+chart.getAttribute('height'));
    while(axis.firstChild) axis.removeChild(axis.firstChild);
    var w=+chart.getAttribute('width'), x0=+chart.getAttribute('x');
    for(var i=0;i<=8;i++){ var t=view.a+(view.b-view.a)*i/8;
      var tx=document.createElementNS(svg.namespaceURI,'text');
      tx.setAttribute('x',x0+w*i/8); tx.setAttribute('y',14); tx.setAttribute('font-size','10');
      tx.setAttribute('text-anchor',i==0?'start':(i==8?'end':'middle')); tx.textContent=fmt(t);
      axis.appendChild(tx);
      var ln=document.createElementNS(svg.namespaceURI,'line');
      ln.setAttribute('x1',x0+w*i/8); ln.setAttribute('x2',x0+w*i/8); ln.setAttribute('y1',17);
      ln.setAttribute('y2',svg.getAttribute('height')); ln.setAttribute('stroke','#ddd');
      axis.appendChild(ln);}
  }
  function zoom(f,at){ var a=at-(at-view.a)*f, b=at+(view.b-at)*f;
    view.a=Math.max(t0,a); view.b=Math.min(t1,b); if(view.b-view.a<1) view.b=view.a+1; draw(); }
  function timeAt(evt){ var r=chart.getBoundingClientRect();
    return view.a+(view.b-view.a)*(evt.clientX-r.left)/r.width; }
  svg.addEventListener('wheel',function(e){ e.preventDefault(); zoom(e.deltaY<0?0.8:1.25,timeAt(e)); });
  var drag=null;
  svg.addEventListener('mousedown',function(e){ drag={x:e.clientX,a:view.a,b:view.b}; });
  window.addEventListener('mouseup',function(){ drag=null; });
  window.addEventListener('mousemove',function(e){ if(!drag) return;
    var r=chart.getBoundingClientRect(), dt=(drag.b-drag.a)*(e.clientX-drag.x)/r.width;
    var a=drag.a-dt, b=drag.b-dt; if(a<t0){b+=t0-a;a=t0;} if(b>t1){a-=b-t1;b=t1;}
    view.a=a; view.b=b; draw(); });
  document.getElementById('zoom-in').onclick=function(){ zoom(0.5,(view.a+view.b)/2); };
  document.getElementById('zoom-out').onclick=function(){ zoom(2,(view.a+view.b)/2); };
  document.getElementById('zoom-reset').onclick=function(){ view={a:t0,b:t1}; draw(); };
  window.focusTime=function(ns,span,row){ span=span||Math.max(2000,(t1-t0)/2000);
    view.a=Math.max(t0,ns-span); view.b=Math.min(t1,ns+span); draw();
    var rows=document.querySelectorAll('tr.violation');
    for(var i=0;i<rows.length;i++) rows[i].classList.toggle('current',rows[i].id==row);
    document.getElementById('timeline-box').scrollIntoView(); return false; };
  draw();
  var m=/^#t=([0-9.]+)/.exec(location.hash); if(m) window.focusTime(+m[1]);
})();
)";

}  // namespace

std::string render_report(const std::string& result_text, const std::string& trace_text,
                          const std::string& result_file, const std::string& trace_file) {
  nlohmann::json r = nlohmann::json::parse(result_text, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("metrics") || !r.contains("scenario"))
    throw sim::ConfigError((result_file.empty() ? "" : result_file + ": ") +
                           "not a result file (expected the JSON written by vcpusim run --json)");
  const nlohmann::json& sc = r["scenario"];
  const std::string name = sc.value("name", std::string("scenario"));
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
    << "<title>vcpusim report: " << esc(name) << "</title>\n<style>" << kStyle << "</style>\n"
    << "</head><body>\n";
  h << "<h1>vcpusim report: " << esc(name) << "</h1>\n";
  if (sc.contains("description"))
    h << "<p>" << esc(sc["description"].get<std::string>()) << "</p>\n";
  const bool met = r.value("expect_met", false);
  h << "<p>Seed " << r.value("seed", 0) << ", fingerprint <code>"
    << esc(r.value("fingerprint", std::string())) << "</code>, " << r.value("events", 0)
    << " events. Expectations: <span class=\"" << (met ? "ok\">met" : "bad\">NOT met")
    << "</span></p>\n";
  if (r.contains("expect_unmet") && !r["expect_unmet"].empty()) {
    h << "<ul>";
    for (const auto& u : r["expect_unmet"]) h << "<li>" << esc(u.get<std::string>()) << "</li>";
    h << "</ul>\n";
  }

  // Violations, each linking to its moment in the timeline.
  h << "<h2>Violations</h2>\n";
  const auto& viols = r.value("violations", nlohmann::json::array());
  if (r.contains("violation_counts")) {
    h << "<p>";
    for (auto it = r["violation_counts"].begin(); it != r["violation_counts"].end(); ++it)
      h << esc(it.key()) << ": " << it.value().dump() << " &nbsp; ";
    h << "</p>\n";
  }
  if (viols.empty()) {
    h << "<p>No violations.</p>\n";
  } else {
    h << "<table id=\"violations\"><tr><th>#</th><th>time</th><th>check</th><th>vCPUs</th>"
         "<th>what happened</th><th></th></tr>\n";
    std::size_t k = 0;
    for (const auto& v : viols) {
      const double t_ns = v.value("time_ns", 0.0);
      const std::string id = "violation-" + std::to_string(k);
      h << "<tr class=\"violation\" id=\"" << id << "\"><td>" << k << "</td><td>" << num(t_ns / 1e6)
        << " ms</td><td>" << esc(v.value("check", std::string())) << "</td><td>"
        << esc(v.value("cpus", nlohmann::json::array()).dump()) << "</td><td>"
        << esc(v.value("message", std::string())) << "</td><td><a href=\"#t=" << num(t_ns)
        << "\" onclick=\"return window.focusTime&amp;&amp;focusTime(" << num(t_ns) << ",0,'" << id
        << "')\">show in timeline</a></td></tr>\n";
      ++k;
    }
    h << "</table>\n";
  }

  // Timeline.
  h << "<h2>Timeline</h2>\n";
  if (trace_text.empty()) {
    h << "<p>No trace given (run with <code>--trace</code> and pass it to "
         "<code>vcpusim report --trace</code>).</p>\n";
  } else {
    const TraceView v = parse_trace(trace_text, trace_file);
    const Tick begin = v.begin, end = std::max(v.end, v.begin + 1);
    const double span_ns = static_cast<double>(end - begin) / sim::kNanosecond;
    std::size_t total = 0;
    for (const auto& l : v.lanes) total += l.slices.size();
    // Volume: beyond kMaxRects, slices shorter than this are left out (they would be sub-pixel).
    const Tick min_dur = total > kMaxRects ? (end - begin) / 20000 : 0;
    const int label_w = 70, chart_w = 1000;
    const int lanes = static_cast<int>(v.lanes.size()) + 1;  // + spans row
    const int height = kTop + lanes * kLaneH + 4;
    h << "<p class=\"legend\">";
    for (const auto& [c, what] :
         std::vector<std::pair<const char*, const char*>>{{"#2e9e55", "running / vCPU on pCPU"},
                                                          {"#3b6fd4", "load task"},
                                                          {"#d43b3b", "preempted"},
                                                          {"#e0b030", "runnable"},
                                                          {"#b8b8b8", "halted"},
                                                          {"#8e44ad", "interrupt"},
                                                          {"#e05ab0", "NMI"},
                                                          {"#1fb5c4", "spinning"},
                                                          {"#f0a000", "async span"},
                                                          {"#ff0000", "violation"}})
      h << "<span><i style=\"background:" << c << "\"></i>" << what << "</span>";
    h << "</p>\n<p><button id=\"zoom-in\">zoom in</button> <button id=\"zoom-out\">zoom out"
         "</button> <button id=\"zoom-reset\">reset</button> (mouse wheel zooms, drag pans)</p>\n";
    h << "<div id=\"timeline-box\"><svg id=\"timeline\" width=\"" << label_w + chart_w
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << label_w + chart_w << " " << height
      << "\" data-begin=\"0\" data-end=\"" << num(span_ns) << "\" data-scale=\""
      << precise(kUnits / span_ns) << "\">\n";
    h << "<g id=\"axis\"></g>\n";
    for (int i = 0; i < lanes; ++i) {
      const std::string label = i < lanes - 1 ? v.lanes[static_cast<std::size_t>(i)].name : "spans";
      h << "<text x=\"4\" y=\"" << kTop + i * kLaneH + 15 << "\" font-size=\"12\">" << esc(label)
        << "</text>\n";
    }
    h << "<svg id=\"chart\" x=\"" << label_w << "\" y=\"" << kTop << "\" width=\"" << chart_w
      << "\" height=\"" << lanes * kLaneH << "\" viewBox=\"0 0 " << num(kUnits) << " "
      << lanes * kLaneH << "\" preserveAspectRatio=\"none\">\n";
    // Chart units: the whole trace is kUnits wide (browsers clamp SVG lengths near 2^25).
    const double scale = kUnits / span_ns;
    auto x_of = [&](Tick t) {
      return num(static_cast<double>(t - begin) / sim::kNanosecond * scale);
    };
    auto w_of = [&](Tick a, Tick b) {
      return num(std::max(static_cast<double>(b - a) / sim::kNanosecond * scale, 0.001));
    };
    for (std::size_t i = 0; i < v.lanes.size(); ++i) {
      const auto& l = v.lanes[i];
      const int y = static_cast<int>(i) * kLaneH;
      for (const auto& s : l.slices) {
        if (s.end - s.start < min_dur) continue;
        const int inset = std::min(s.depth, 3) * 4;
        h << "<rect x=\"" << x_of(s.start) << "\" y=\"" << y + 2 + inset << "\" width=\""
          << w_of(s.start, s.end) << "\" height=\"" << kLaneH - 4 - 2 * inset << "\" fill=\""
          << fill(s, l.pcpu) << "\"><title>" << esc(l.name + ": " + s.name) << "</title></rect>\n";
      }
    }
    const int sy = static_cast<int>(v.lanes.size()) * kLaneH;
    for (const auto& s : v.spans)
      h << "<rect x=\"" << x_of(s.start) << "\" y=\"" << sy + 6 << "\" width=\""
        << w_of(s.start, s.end) << "\" height=\"" << kLaneH - 12 << "\" fill=\"#f0a000\"><title>"
        << esc(s.name) << "</title></rect>\n";
    std::size_t k = 0;
    for (const auto& in : v.violations) {
      h << "<line class=\"violation-mark\" x1=\"" << x_of(in.t) << "\" x2=\"" << x_of(in.t)
        << "\" y1=\"0\" y2=\"" << lanes * kLaneH
        << "\" stroke=\"#ff0000\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\">"
        << "<title>violation " << k++ << ": " << esc(in.args.value("message", std::string()))
        << "</title></line>\n";
    }
    h << "</svg></svg></div>\n";
    if (min_dur > 0)
      h << "<p>" << total << " slices; those shorter than " << sim::format_duration(min_dur)
        << " are left out of this view (the full trace opens in Perfetto).</p>\n";
  }

  // Metrics and the resolved scenario.
  h << "<h2>Metrics</h2>\n<table class=\"metrics\">\n";
  for (auto it = r["metrics"].begin(); it != r["metrics"].end(); ++it)
    h << "<tr><td>" << esc(it.key()) << "</td><td>" << esc(it.value().dump()) << "</td></tr>\n";
  h << "</table>\n<h2>Scenario</h2>\n<pre>" << esc(sc.dump(2)) << "</pre>\n";
  h << "<script>" << kScript << "</script>\n</body></html>\n";
  return h.str();
}

}  // namespace vcpusim::tools
