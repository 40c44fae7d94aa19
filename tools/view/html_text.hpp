// Text for the HTML pages (report.cpp, report_timeline.cpp, sweep_html.cpp): one escape and one
// number format shared, so a unity build (cmake/README.md) sees each name once.
#pragma once
#include <cstdio>
#include <string>

namespace vcpusim::tools {

// Escapes & < > " for element text and double-quoted attribute values.
inline std::string html_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '&')
      r += "&amp;";
    else if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '"')
      r += "&quot;";
    else
      r += c;
  }
  return r;
}

// At most four decimals, trailing zeros (and a trailing point) dropped: SVG coordinates.
inline std::string html_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace vcpusim::tools
