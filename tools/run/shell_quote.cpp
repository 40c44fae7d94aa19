#include "tools/run/shell_quote.hpp"

namespace vcpusim::tools {

// Inside single quotes sh reads every byte (newline included) literally until the next single
// quote, which is written '\''. Bare words: only characters no shell expands ('=' first is
// zsh's command-path expansion, so it is quoted too).
std::string shell_quote(const std::string& s) {
  if (!s.empty() && s[0] != '=' &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_-./=:@%+,") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace vcpusim::tools
