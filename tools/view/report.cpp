#include "tools/view/report.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/config/config.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "sim/time.hpp"
#include "tools/view/html_text.hpp"
#include "tools/view/notable.hpp"
#include "tools/view/report_metrics.hpp"
#include "tools/view/report_timeline.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {
namespace {

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
        " at the reads (" + ns("read_spacing_ns") + " apart); publish-delay term " +
        ns("publish_delay_term_ns") + " (publish delay " + ns("publish_delay_ns") + " x " +
        std::to_string(d["mult_old"].get<std::int64_t>() - d["mult_new"].get<std::int64_t>()) +
        "/" + d["mult_old"].dump() + ")";
  return "<td class=\"step\">" + ns("backward_step_ns") + "</td><td class=\"predicted\">" +
         html_escape(predicted) + "</td>";
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
.metrics{columns:2;font-size:.85em}h3.metric-group{font-size:1em;margin:1em 0 .3em}
.legend p{margin:.3em 0}.hidden-note{color:#666;font-size:.85em}
tr.notable.current{background:#ffe9a8}.notable-box{max-height:16em;overflow:auto;display:inline-block}svg.quantiles{display:block}
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
    var rows=document.querySelectorAll('tr.violation, tr.notable');
    for(var i=0;i<rows.length;i++) rows[i].classList.toggle('current',rows[i].id==row);
    document.getElementById('timeline-heading').scrollIntoView(); return false; };
  draw();
  var m=/^#t=([0-9.]+)/.exec(location.hash); if(m) window.focusTime(+m[1]);
})();
)";

std::string describe_number(const sim::Node& n) {
  n.as_real(std::numeric_limits<double>::lowest(), std::numeric_limits<double>::max());
  return n.json().dump();
}

// What the report shows of a result file, each field checked as the scenario loader checks its
// own (sim::Node: file, JSON path, value, what is allowed).
struct ResultView {
  struct Violation {
    double time_ns = 0;
    std::string check, cpus, message;
    nlohmann::json raw;  // with its details checked for step_cells
  };
  std::string name = "scenario", description, seed = "0", fingerprint, events = "0";
  bool met = false;
  std::vector<std::string> unmet;
  std::vector<std::pair<std::string, std::string>> counts, metrics;  // key, JSON text
  std::vector<Violation> violations;
  std::string scenario;  // indented JSON

  static ResultView read(const nlohmann::json& doc, const std::string& file) {
    const sim::Node r(doc, file, "$");
    ResultView v;
    const sim::Node sc = r.at("scenario");
    sc.require_object();
    v.scenario = sc.json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    if (const auto n = sc.find("name")) v.name = n->as_string();
    if (const auto n = sc.find("description")) v.description = n->as_string();
    if (const auto n = r.find("seed"))
      v.seed = n->json().is_number_unsigned() ? n->json().dump() : std::to_string(n->as_int(0, 0));
    if (const auto n = r.find("fingerprint")) v.fingerprint = n->as_string();
    if (const auto n = r.find("events")) v.events = std::to_string(n->as_int(0, INT64_MAX));
    if (const auto n = r.find("expect_met")) v.met = n->as_bool();
    if (const auto n = r.find("expect_unmet"))
      for (std::size_t i = 0; i < n->size(); ++i) v.unmet.push_back(n->at(i).as_string());
    auto entries = [](const sim::Node& n, std::vector<std::pair<std::string, std::string>>& out,
                      bool numbers) {
      n.require_object();
      for (auto it = n.json().begin(); it != n.json().end(); ++it)
        out.emplace_back(
            it.key(),
            numbers ? describe_number(n.at(it.key()))
                    : it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    };
    if (const auto n = r.find("violation_counts")) entries(*n, v.counts, true);
    entries(r.at("metrics"), v.metrics, false);  // numbers, or objects such as per-reader counts
    // Each histogram is a list of [low, high, count] bins (sim::Samples::histogram).
    if (const auto hist = r.find("histograms")) {
      hist->require_object();
      for (auto it = hist->json().begin(); it != hist->json().end(); ++it) {
        const sim::Node bins = hist->at(it.key());
        bins.require_array();
        for (std::size_t i = 0; i < bins.size(); ++i) {
          const sim::Node bin = bins.at(i);
          bin.require_array();
          if (bin.size() != 3)
            bin.fail("a bin of " + std::to_string(bin.size()) + " values", "[low, high, count]");
          for (std::size_t j = 0; j < 3; ++j) describe_number(bin.at(j));
        }
      }
    }
    if (const auto list = r.find("violations")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const sim::Node e = list->at(i);
        Violation x;
        x.time_ns = e.at("time_ns").as_real(0, 1e12);
        if (const auto n = e.find("check")) x.check = n->as_string();
        if (const auto n = e.find("message")) x.message = n->as_string();
        if (const auto n = e.find("cpus")) {
          n->require_array();
          x.cpus = n->json().dump();
        }
        if (const auto d = e.find("details")) {
          d->require_object();
          for (const char* k :
               {"predicted_step_ns", "publish_delay_ns", "publish_delay_term_ns",
                "read_spacing_ns", "backward_step_ns"})
            if (const auto n = d->find(k)) n->as_real(-1e15, 1e15);
          for (const char* k : {"mult_old", "mult_new"})
            if (const auto n = d->find(k)) n->as_int(0, std::int64_t{1} << 40);
        }
        x.raw = e.json();
        v.violations.push_back(std::move(x));
      }
    }
    return v;
  }
};

// The notable events (tools/view/notable.hpp), each row numbered as `vcpusim timeline --at N`
// takes it and linking to its moment (#t=NS; the page's script reads only the number).
std::string notable_section(const NotableList& list) {
  std::ostringstream h;
  h << "<h2 id=\"notable-heading\">Notable events</h2>\n";
  if (list.all.empty()) {
    h << "<p>None: no violation, no lock holder preempted, no grace period over "
      << sim::format_duration(kLongGracePeriod) << ".</p>\n";
    return h.str();
  }
  h << "<p>";
  for (const auto& kind : notable_kinds())
    h << html_escape(kind) << ": " << list.total.at(kind) << " &nbsp; ";
  h << "(grace periods over " << sim::format_duration(kLongGracePeriod)
    << "). <code>vcpusim timeline TRACE --at N</code> draws event N in the terminal, "
       "<code>--at KIND:N</code> the N-th of a kind.</p>\n"
    << "<div class=\"notable-box\"><table "
       "id=\"notable\"><tr><th>#</th><th>kind</th><th>time</th><th>where</th>"
       "<th>what</th><th></th></tr>\n";
  for (std::size_t n = 0; n < list.shown.size(); ++n) {
    const NotableEvent& e = list.all[list.shown[n]];
    // The link centres the event's moment (a grace period's middle) with its whole span in view.
    const double start_ns = static_cast<double>(e.start) / sim::kNanosecond;
    const double half_ns = static_cast<double>(e.end - e.start) / sim::kNanosecond / 2;
    const std::string at = html_number(start_ns + half_ns);
    const std::string id = "notable-" + std::to_string(n);
    h << "<tr class=\"notable\" id=\"" << id << "\"><td>" << n << "</td><td>" << html_escape(e.kind)
      << ":" << e.index << "</td><td>" << html_number(start_ns / 1e6) << " ms</td><td>"
      << html_escape(e.lane) << "</td><td>" << html_escape(e.what) << "</td><td><a href=\"#t=" << at
      << "\" onclick=\"return window.focusTime&amp;&amp;focusTime(" << at << ","
      << (half_ns > 0 ? html_number(half_ns * 1.25) : "0") << ",'" << id
      << "')\">show in timeline</a></td></tr>\n";
  }
  h << "</table></div>\n";
  for (const auto& kind : notable_kinds())
    if (list.total.at(kind) > kNotableShownPerKind)
      h << "<p>" << list.total.at(kind) - kNotableShownPerKind << " more " << html_escape(kind)
        << " events not listed: <code>vcpusim timeline TRACE --at " << html_escape(kind) << ":"
        << kNotableShownPerKind << "</code> (up to " << html_escape(kind) << ":"
        << list.total.at(kind) - 1 << ") draws them.</p>\n";
  return h.str();
}

}  // namespace

std::string render_report(const std::string& result_text, const std::string& trace_text,
                          const std::string& result_file, const std::string& trace_file) {
  // Bounded nesting, no key twice, and a message that says where the JSON is wrong.
  const nlohmann::json doc =
      sim::parse_json_text(result_text, result_file.empty() ? "result" : result_file);
  if (!doc.is_object() || !doc.contains("metrics") ||
      !doc.contains("scenario"))
    throw sim::ConfigError(result_file +
                           ": not a result file (expected the JSON written by vcpusim run --json)");
  const ResultView r = ResultView::read(doc, result_file.empty() ? "result" : result_file);
  const std::string& name = r.name;
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
    << "<title>vcpusim report: " << html_escape(name) << "</title>\n<style>" << kStyle
    << "</style>\n"
    << "</head><body>\n";
  h << "<h1>vcpusim report: " << html_escape(name) << "</h1>\n";
  if (!r.description.empty()) h << "<p>" << html_escape(r.description) << "</p>\n";
  const bool met = r.met;
  h << "<p>Seed " << r.seed << ", fingerprint <code>" << html_escape(r.fingerprint) << "</code>, "
    << r.events << " events. Expectations: <span class=\"" << (met ? "ok\">met" : "bad\">NOT met")
    << "</span></p>\n";
  if (!r.unmet.empty()) {
    h << "<ul>";
    for (const auto& u : r.unmet) h << "<li>" << html_escape(u) << "</li>";
    h << "</ul>\n";
  }

  // Violations, each linking to its moment in the timeline.
  h << "<h2>Violations</h2>\n";
  if (!r.counts.empty()) {
    h << "<p>";
    for (const auto& [k, n] : r.counts) h << html_escape(k) << ": " << n << " &nbsp; ";
    h << "</p>\n";
  }
  if (r.violations.empty()) {
    h << "<p>No violations.</p>\n";
  } else {
    h << "<table id=\"violations\"><tr><th>#</th><th>time</th><th>check</th><th>vCPUs</th>"
         "<th>what happened</th><th>step</th><th>model predicts</th><th></th></tr>\n";
    std::size_t k = 0;
    for (const auto& v : r.violations) {
      const double t_ns = v.time_ns;
      const std::string id = "violation-" + std::to_string(k);
      h << "<tr class=\"violation\" id=\"" << id << "\"><td>" << k << "</td><td>"
        << html_number(t_ns / 1e6) << " ms</td><td>" << html_escape(v.check) << "</td><td>"
        << html_escape(v.cpus) << "</td><td>" << html_escape(v.message) << "</td>"
        << step_cells(v.raw) << "<td><a href=\"#t=" << html_number(t_ns)
        << "\" onclick=\"return window.focusTime&amp;&amp;focusTime(" << html_number(t_ns) << ",0,'"
        << id << "')\">show in timeline</a></td></tr>\n";
      ++k;
    }
    h << "</table>\n";
  }

  // Notable events and the timeline.
  if (trace_text.empty()) {
    h << "<h2 id=\"timeline-heading\">Timeline</h2>\n<p>No trace given (run with "
         "<code>--trace</code> and pass it to <code>vcpusim report --trace</code>).</p>\n";
  } else {
    const TraceView view = parse_trace(trace_text, trace_file);
    h << notable_section(notable_events(view)) << "<h2 id=\"timeline-heading\">Timeline</h2>\n"
      << render_timeline_svg(view);
  }

  // Metrics and the resolved scenario.
  h << render_metrics_html(doc.at("metrics"), doc.value("histograms", nlohmann::json::object()));
  h << "<h2>Scenario</h2>\n<pre>" << html_escape(r.scenario) << "</pre>\n";
  h << "<script>" << kScript << "</script>\n</body></html>\n";
  return h.str();
}

}  // namespace vcpusim::tools
