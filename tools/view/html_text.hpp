// Text for the HTML pages (report.cpp, report_timeline.cpp, sweep_html.cpp): one escape and one
// number format shared, so a unity build (cmake/README.md) sees each name once.
#pragma once
#include <cstdio>
#include <string>

#include "sim/config/config.hpp"

namespace vcpusim::tools {

// Text from an input (names, labels, paths, messages) for element text and quoted attribute
// values: & < > " ' become entities, so nothing in it can open or close a tag, an attribute or
// a script; the other control characters and the bidi overrides and isolates show as visible
// escapes (sim::printable), line breaks and tabs stay (the <pre> blocks need them). The pages
// never put input text into a script, a URL, an event handler or a style: only numbers and
// fixed words go there (docs/security-checklist.md).
inline std::string html_escape(const std::string& s) {
  std::string shown;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\n' || s[i] == '\t') {
      shown += sim::printable(s.substr(from, i - from));
      if (i < s.size()) shown += s[i];
      from = i + 1;
    }
  std::string r;
  for (char c : shown) {
    if (c == '&')
      r += "&amp;";
    else if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '"')
      r += "&quot;";
    else if (c == '\'')
      r += "&#39;";
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
