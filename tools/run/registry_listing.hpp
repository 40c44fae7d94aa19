// What `vcpusim metrics` and `vcpusim checks` print: the declared metrics (name, unit, doc, by the
// component that declares them) and checks (doc, limits, the variants that exist to exercise
// them), as terminal text or as the Markdown of docs/metrics.md and docs/checks.md. Derived from
// guest::Registries and the scenario's parameters only, so the listings cannot drift from what
// validation accepts.
#pragma once
#include <string>
#include <vector>

#include "guest/registries.hpp"

namespace vcpusim::tools {

enum class ListingFormat { kText, kMarkdown };

// The metrics of `groups` (every group when empty), in registry order.
std::string list_metrics(const guest::Registries& registries, ListingFormat format,
                         const std::vector<std::string>& groups = {});

// The checks named in `only` (every check when empty), in registry order.
std::string list_checks(const guest::Registries& registries, ListingFormat format,
                        const std::vector<std::string>& only = {});

}  // namespace vcpusim::tools
