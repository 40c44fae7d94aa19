#include "tools/cli_args.hpp"

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

std::string value(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

std::vector<std::string> values(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

}  // namespace vcpusim::tools::cli
