// Shell-style name patterns, as users write them for targets and thread names: '*' matches any
// run of characters (none included), every other character itself.
#pragma once
#include <string>

namespace vcpusim::sim {

// Greedy '*' with backtracking to the last star: linear in practice.
inline bool glob_match(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace vcpusim::sim
