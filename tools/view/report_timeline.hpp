// The HTML report's SVG timeline (tools/view/report.hpp): host and vCPU lanes, the clock reads as a
// density strip with the reads around each violation as marks, the seqcount write sections and
// the timekeeping update (clock read at c0 to publication) in lanes of their own.
#pragma once
#include <string>

#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {

// The legend, the zoom buttons and the <svg id="timeline"> of a parsed trace. Its data-begin and
// data-end are the trace's window in nanoseconds of simulated time.
std::string render_timeline_svg(const TraceView& view);

}  // namespace vcpusim::tools
