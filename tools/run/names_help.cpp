#include "tools/run/names_help.hpp"

#include <sstream>
#include <vector>

namespace vcpusim::tools {
namespace {

constexpr std::size_t kHelpWidth = 80;      // the width boost::program_options wraps --help to
constexpr std::size_t kHelpDocColumn = 24;  // past the longest name ("mmu_notifier_torture")

// "  name  doc" with the doc wrapped at word boundaries under its own column.
void help_entry(std::ostringstream& out, const std::string& name, const std::string& doc) {
  std::string line = "  " + name;
  line.append(line.size() + 1 < kHelpDocColumn ? kHelpDocColumn - line.size() : 1, ' ');
  std::istringstream words(doc);
  bool first = true;
  for (std::string w; words >> w; first = false) {
    if (!first && line.size() + 1 + w.size() > kHelpWidth) {
      out << line << "\n";
      line.assign(kHelpDocColumn, ' ');
      first = true;
    }
    line += (first ? "" : " ") + w;
  }
  out << line << "\n";
}

}  // namespace

std::string names_help(const guest::Registries& registries) {
  std::ostringstream out;
  out << "checks (\"checks\"; default: all; their bounds are the \"limits\" keys):\n";
  for (const cpu::CheckSpec& c : registries.checks.entries()) help_entry(out, c.name, c.doc);
  out << "\nworkload kinds (guest.workloads[].kind):\n";
  for (const guest::WorkloadKind& k : registries.workloads.entries())
    help_entry(out, k.name, k.doc);
  return out.str();
}

}  // namespace vcpusim::tools
