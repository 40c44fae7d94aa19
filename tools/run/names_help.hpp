// The checks and workload kinds a scenario can name, with their docs, for --help (and so the man
// page): derived from guest::Registries like the schema and the validation messages.
#pragma once
#include <string>

#include "guest/registries.hpp"

namespace vcpusim::tools {

std::string names_help(const guest::Registries& registries);

}  // namespace vcpusim::tools
