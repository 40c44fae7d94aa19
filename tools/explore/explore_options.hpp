// The search's own options, shared by `explore` and `explore slurm` (whose jobs run explore
// with them): declared once, read and checked once, so a cluster's explore is refused for what
// a local one would be.
#pragma once
#include <boost/program_options.hpp>
#include <string>

#include "tools/explore/explore.hpp"

namespace vcpusim::tools {

// --strategy, --schedules, --max-wall, --first, --prefix-reuse, -j, --explore-seed, --set.
// `sharded` (explore slurm): --max-wall, --first and -j are declared only to be refused.
void add_search_options(boost::program_options::options_description& opts, bool sharded = false);

// Those options read and checked (sim::ConfigError when bad); the shard is left at 0/1.
ExploreOptions search_options(const boost::program_options::variables_map& vm);

// --first and --max-wall stop one shard, not the explore: refused with `sharded` ("--shard",
// "explore slurm") by a sim::ConfigError saying why and what is allowed.
void refuse_local_budgets(const ExploreOptions& o, const std::string& sharded);

}  // namespace vcpusim::tools
