#include "tools/explore/explore_options.hpp"

#include <algorithm>
#include <chrono>

#include "sim/error.hpp"
#include "sim/time.hpp"
#include "tools/cli_args.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {

void add_search_options(po::options_description& opts, bool sharded) {
  opts.add_options()("strategy", po::value<std::string>()->default_value("window"),
                     "window, pct, random, cover or seeds")(
      "schedules", po::value<std::string>()->default_value("1000"),
      "how many schedules to run (the budget), 1 to 10^9");
  if (sharded)
    opts.add_options()("max-wall", po::value<std::string>(),
                       "refused: it would stop one shard (--time limits a task)")(
        "first", "refused: it would stop one shard");
  else
    opts.add_options()("max-wall", po::value<std::string>(),
                       "wall-clock budget, e.g. 60s (stops between batches)")(
        "first", "stop at the first failing schedule");
  opts.add_options()("prefix-reuse", po::value<std::string>()->default_value("auto"),
                     "auto, always or never: run the schedules that only add preemption points "
                     "forked from the scenario's own run at their first point (the same "
                     "results; auto when it was measured to be cheaper)");
  if (sharded)
    opts.add_options()("jobs,j", po::value<std::string>(), "refused: --cpus-per-task is its -j");
  else
    opts.add_options()("jobs,j", po::value<std::string>()->default_value("1"),
                       "worker processes, 1 to 256");
  opts.add_options()("explore-seed", po::value<std::string>()->default_value("1"),
                     "seed of the strategy's own choices (the scenario's seed stays)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a scenario value, as for run");
}

ExploreOptions search_options(const po::variables_map& vm) {
  ExploreOptions o;
  o.strategy = vm["strategy"].as<std::string>();
  const auto& names = explore_strategies();
  if (std::find(names.begin(), names.end(), o.strategy) == names.end())
    throw sim::ConfigError("--strategy " + sim::quote(o.strategy) +
                           ": allowed: window, pct, random, cover or seeds");
  o.schedules = cli::integer("--schedules", vm["schedules"].as<std::string>(), 1, 1000000000);
  if (vm.count("jobs"))
    o.jobs = static_cast<int>(cli::integer("-j", vm["jobs"].as<std::string>(), 1, 256));
  o.seed = cli::integer("--explore-seed", vm["explore-seed"].as<std::string>(), 0,
                        9999999999999999999ULL, "seed");
  o.first = vm.count("first") > 0;
  {
    const std::string reuse = vm["prefix-reuse"].as<std::string>();
    if (reuse == "auto")
      o.prefix_reuse = ExploreOptions::PrefixReuse::kAuto;
    else if (reuse == "always")
      o.prefix_reuse = ExploreOptions::PrefixReuse::kAlways;
    else if (reuse == "never")
      o.prefix_reuse = ExploreOptions::PrefixReuse::kNever;
    else
      throw sim::ConfigError("--prefix-reuse " + sim::quote(reuse) +
                             ": allowed: auto, always or never");
  }
  if (vm.count("max-wall")) {
    const std::string text = vm["max-wall"].as<std::string>();
    const auto t = sim::parse_duration(text);
    if (!t || *t <= 0)
      throw sim::ConfigError("--max-wall " + sim::quote(text) +
                             ": is not a duration; allowed: a positive duration, e.g. 60s");
    o.max_wall = std::chrono::milliseconds(std::max<sim::Tick>(1, *t / sim::kMillisecond));
  }
  return o;
}

// Budgets that stop one shard early would make the merge depend on which shard stopped.
void refuse_local_budgets(const ExploreOptions& o, const std::string& sharded) {
  if (o.first)
    throw sim::ConfigError("--first with " + sharded +
                           ": it would stop one shard, not the explore; allowed: one of them");
  if (o.max_wall.count() > 0)
    throw sim::ConfigError("--max-wall with " + sharded +
                           ": a wall-clock budget is local; allowed: --schedules as the budget "
                           "of a sharded explore (and the cluster's own time limit)");
}

}  // namespace vcpusim::tools
