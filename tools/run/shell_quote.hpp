// Input text as one sh word (the Slurm scripts, the sweep page's re-run commands).
#pragma once
#include <string>

namespace vcpusim::tools {

// A word for sh: as is when it is plainly safe, else single-quoted.
std::string shell_quote(const std::string& s);

}  // namespace vcpusim::tools
