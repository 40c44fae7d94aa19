#include "tools/report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/error.hpp"
#include "sim/time.hpp"
#include "tools/report_timeline.hpp"
#include "tools/trace_view.hpp"

namespace vcpusim::tools {
namespace {

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

// The measured backward step and the model's predictions (closed form, and corrected for the
// time between the two reads), when the check and the model gave them.
std::string step_cells(const nlohmann::json& v) {
  const auto& d = v.value("details", nlohmann::json::object());
  auto ns = [&d](const char* key) {
    return d.contains(key) && d[key].is_number()
               ? std::to_string(d[key].get<std::int64_t>()) + " ns"
               : std::string();
  };
  std::string predicted = ns("predicted_step_ns");
  if (!predicted.empty() && d.contains("mult_old") && d.contains("mult_new"))
    predicted +=
        " (closed form: publish delay " + ns("publish_delay_ns") + " x " +
        std::to_string(d["mult_old"].get<std::int64_t>() - d["mult_new"].get<std::int64_t>()) +
        "/" + d["mult_old"].dump() + ")";
  if (!ns("predicted_step_at_reads_ns").empty())
    predicted += "; " + ns("predicted_step_at_reads_ns") + " at the reads (" +
                 ns("read_spacing_ns") + " apart)";
  return "<td class=\"step\">" + ns("backward_step_ns") + "</td><td class=\"predicted\">" +
         esc(predicted) + "</td>";
}

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
    document.getElementById('timeline-heading').scrollIntoView(); return false; };
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
         "<th>what happened</th><th>step</th><th>model predicts</th><th></th></tr>\n";
    std::size_t k = 0;
    for (const auto& v : viols) {
      const double t_ns = v.value("time_ns", 0.0);
      const std::string id = "violation-" + std::to_string(k);
      h << "<tr class=\"violation\" id=\"" << id << "\"><td>" << k << "</td><td>" << num(t_ns / 1e6)
        << " ms</td><td>" << esc(v.value("check", std::string())) << "</td><td>"
        << esc(v.value("cpus", nlohmann::json::array()).dump()) << "</td><td>"
        << esc(v.value("message", std::string())) << "</td>" << step_cells(v)
        << "<td><a href=\"#t=" << num(t_ns)
        << "\" onclick=\"return window.focusTime&amp;&amp;focusTime(" << num(t_ns) << ",0,'" << id
        << "')\">show in timeline</a></td></tr>\n";
      ++k;
    }
    h << "</table>\n";
  }

  // Timeline.
  h << "<h2 id=\"timeline-heading\">Timeline</h2>\n";
  if (trace_text.empty())
    h << "<p>No trace given (run with <code>--trace</code> and pass it to "
         "<code>vcpusim report --trace</code>).</p>\n";
  else
    h << render_timeline_svg(parse_trace(trace_text, trace_file));

  // Metrics and the resolved scenario.
  h << "<h2>Metrics</h2>\n<table class=\"metrics\">\n";
  for (auto it = r["metrics"].begin(); it != r["metrics"].end(); ++it)
    h << "<tr><td>" << esc(it.key()) << "</td><td>" << esc(it.value().dump()) << "</td></tr>\n";
  h << "</table>\n<h2>Scenario</h2>\n<pre>" << esc(sc.dump(2)) << "</pre>\n";
  h << "<script>" << kScript << "</script>\n</body></html>\n";
  return h.str();
}

}  // namespace vcpusim::tools
