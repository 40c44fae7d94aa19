#include "tools/cli_args.hpp"

#include <iostream>

#include "sim/config/config.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools::cli {

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& visible,
                        const char* positional, int count) {
  po::options_description all;
  all.add(visible);
  if (positional && count == 1) all.add_options()(positional, po::value<std::string>(), "");
  if (positional && count != 1)
    all.add_options()(positional, po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  if (positional) pos.add(positional, count);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

std::uint64_t integer(const std::string& option, const std::string& text, std::uint64_t lo,
                      std::uint64_t hi, const char* noun) {
  std::uint64_t v = 0;
  bool ok = !text.empty() && text.size() <= 20;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '9' && v <= (UINT64_MAX - static_cast<unsigned>(c - '0')) / 10;
    if (!ok) break;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (!ok || v < lo || v > hi)
    throw sim::ConfigError(option + " " + sim::quote(text) + ": is not a " + noun +
                           "; allowed: an integer from " + std::to_string(lo) + " to " +
                           std::to_string(hi));
  return v;
}

std::string value(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

std::vector<std::string> values(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings)
    std::cerr << "vcpusim: warning: " << sim::printable(w) << "\n";
}

}  // namespace vcpusim::tools::cli
