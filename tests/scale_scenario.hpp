// The scale scenario of issue 12's benchmark: N vCPUs on N/4 pCPUs, half of them vDSO readers
// (vCPUs 0..N/2-1, so each pCPU's first vCPU reads), half busy; the timekeeper is vCPU0. Used by
// bench/, tools/scripts/perf_table.sh (the same, written in bash) and the 1024-vCPU test.
#pragma once
#include <string>

#include "sim/config/config.hpp"

namespace vcpusim::test {

inline sim::Json scale_scenario(int vcpus, const std::string& duration) {
  sim::Json busy = sim::Json::array(), readers = sim::Json::array();
  for (int v = 0; v < vcpus; ++v) (v < vcpus / 2 ? readers : busy).push_back(v);
  return {{"name", "scale-" + std::to_string(vcpus)},
          {"seed", 1},
          {"duration", duration},
          {"host", {{"pcpus", vcpus / 4}}},
          {"vm", {{"vcpus", vcpus}}},
          {"guest",
           {{"workloads",
             {{{"kind", "busy"}, {"vcpus", busy}},
              {{"kind", "vdso_reader"}, {"vcpus", readers}, {"think", "200ns"}}}}}},
          {"checks", {"monotonic_time"}}};
}

}  // namespace vcpusim::test
