// The vcpusim entry point: picks the command from the table (tools/commands.hpp) and turns what
// it throws into one message and the documented exit code.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <systemc>
#include <vector>

#include "plugin/watchdog.hpp"
#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"
#include "tools/version.hpp"

namespace po = boost::program_options;
using namespace vcpusim;
using tools::cli::kExitMet;
using tools::cli::kExitSimError;
using tools::cli::kExitUsage;

namespace {

const tools::Command* find_command(const std::string& name) {
  for (const tools::Command& c : tools::commands())
    if (name == c.name) return &c;
  return nullptr;
}

// `vcpusim help` (the general usage), `help --list` (the command names, for the man page) and
// `help COMMAND` (that command's --help).
int help(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cout << tools::usage();
    return kExitMet;
  }
  if (args.size() == 1 && args[0] == "--list") {
    for (const tools::Command& c : tools::commands()) std::cout << c.name << "\n";
    return kExitMet;
  }
  const tools::Command* c = args.size() == 1 ? find_command(args[0]) : nullptr;
  if (!c) throw po::error("help takes one command name or --list");
  return c->handler({"--help"});
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << tools::usage();
    return kExitUsage;
  }
  const std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "--help" || cmd == "-h") {
      std::cout << tools::usage();
      return kExitMet;
    }
    if (cmd == "help") return help(args);
    if (cmd == "--version") {
      std::cout << "vcpusim " << tools::kVersion << "\n";
      return kExitMet;
    }
    if (const tools::Command* c = find_command(cmd)) return c->handler(args);
    std::cerr << "vcpusim: unknown command '" << sim::printable(cmd) << "'\n\n" << tools::usage();
    return kExitUsage;
  } catch (const plugin::watchdog::ChildStopped&) {  // the child said why
    return tools::cli::kExitPluginFault;
  } catch (const po::error& e) {
    std::cerr << "vcpusim " << sim::printable(cmd) << ": " << sim::printable(e.what())
              << " (see vcpusim " << sim::printable(cmd) << " --help)\n";
    return kExitUsage;
  } catch (const sim::ConfigError& e) {
    std::cerr << "vcpusim: " << sim::printable(e.what()) << "\n";
    return kExitUsage;
  } catch (const sim::SimError& e) {
    std::cerr << "vcpusim: simulation error: " << sim::printable(e.what()) << "\n";
    return kExitSimError;
  } catch (const std::exception& e) {  // a bug: never SystemC's "uncaught exception" and exit 1
    std::cerr << "vcpusim: internal error: " << sim::printable(e.what()) << "\n";
    return kExitSimError;
  } catch (...) {
    std::cerr << "vcpusim: internal error: an unknown exception\n";
    return kExitSimError;
  }
}

// Own entry point: silence SystemC's banner before its library initialises, then let SystemC
// call sc_main.
int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
