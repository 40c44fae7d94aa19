// The one argument parser of every vcpusim command (Boost.Program_options) and the exit codes
// they share. Rooms of tools/ may include this; it includes none of them.
#pragma once
#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace vcpusim::tools::cli {

namespace po = boost::program_options;

constexpr int kExitMet = 0;       // expectations met, or a command that did its work
constexpr int kExitNotMet = 1;    // a run that did not meet its expect block, a failure found
constexpr int kExitUsage = 2;     // bad input or usage
constexpr int kExitSimError = 3;  // a simulation error (or a bug)
constexpr int kExitPluginFault = 4;  // C plugin code crashed, looped or overflowed its stack

// Parses a command's arguments: the options of `visible` plus positional arguments stored under
// `positional` (nullptr: none). With count 1 the positional is one std::string; otherwise a
// std::vector<std::string> of at most count values (-1: any number).
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& visible,
                        const char* positional = nullptr, int count = 1);

// A decimal integer option value in [lo, hi] (never wrapped: Boost would read "-1" as 2^64-1);
// otherwise a sim::ConfigError "OPTION "TEXT": is not a NOUN; allowed: an integer from lo to hi".
std::uint64_t integer(const std::string& option, const std::string& text, std::uint64_t lo,
                      std::uint64_t hi, const char* noun = "count");

// The value of a string option, or "" when it was not given.
std::string value(const po::variables_map& vm, const char* name);

// The values of a composing string option (--set), empty when it was not given.
std::vector<std::string> values(const po::variables_map& vm, const char* name);

// Each warning of an input (Scenario::warnings) on stderr, "vcpusim: warning: ...", escaped.
void print_warnings(const std::vector<std::string>& warnings);

}  // namespace vcpusim::tools::cli
