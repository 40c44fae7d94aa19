// The HTML report's SVG timeline (tools/view/report.hpp): host lanes coloured by the vCPU they
// run, vCPU lanes (states, handlers, lock-holder preemptions, kicks), the clock reads as a density
// strip with the reads around each violation as marks, the seqcount write sections, the
// timekeeping update (clock read at c0 to publication), lock holds and RCU grace periods in rows
// of their own, each only when the trace holds it, and a legend naming only what is drawn.
#pragma once
#include <string>
#include <vector>

#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {

// The legend, the zoom buttons and the <svg id="timeline"> of a parsed trace. Its data-begin and
// data-end are the trace's window in nanoseconds of simulated time.
std::string render_timeline_svg(const TraceView& view);

// The legend alone (<div class="legend">) for what these traces hold (the diff page shows two).
std::string render_timeline_legend(const std::vector<const TraceView*>& views);

}  // namespace vcpusim::tools
