// `vcpusim cc FILE.c... -o FILE.so`: builds a C guest-code plugin with the system compiler and
// the flags a plugin needs (docs/c-guest-code.md); tools/commands.cpp lists it.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

// The compiler's argument list (argv[0] is the compiler) for `sources` into `out`, with
// <vcpusim/...> from `include_dir` and `extra` flags (e.g. -DNAME, -g) before the sources.
std::vector<std::string> plugin_cc_argv(const std::string& compiler,
                                        const std::string& include_dir,
                                        const std::vector<std::string>& extra,
                                        const std::vector<std::string>& sources,
                                        const std::string& out);

// The flags that compile one source for instrumented mode (`vcpusim cc --instrument`), by the
// compiler's name (gcc and clang spell the volatile option differently).
std::vector<std::string> instrument_flags(const std::string& compiler);

// The folder holding vcpusim/guest.h: <prefix>/include next to an installed binary, else the
// source tree this binary was built from; ConfigError when neither has it.
std::string guest_include_dir();

int cmd_cc(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
