#include "cpu/host/host_thread.hpp"

namespace vcpusim::cpu {

std::int64_t nice_to_weight(int nice) {
  // Each nice level is ~1.25x the next one's weight, with nice 0 at 1024 (kernel/sched/core.c).
  static constexpr std::int64_t kWeights[40] = {
      88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
      3906,  3121,  2501,  1991,  1586,  1277,  1024,  820,   655,   526,   423,  335,  272,  215,
      172,   137,   110,   87,    70,    56,    45,    36,    29,    23,    18,   15};
  return kWeights[nice + 20];
}

HostThread::HostThread(int id, Kind kind, std::string name, std::vector<int> affinity, int nice)
    : id_(id),
      kind_(kind),
      name_(std::move(name)),
      affinity_(std::move(affinity)),
      weight_(nice_to_weight(nice)),
      nice_(nice) {}

}  // namespace vcpusim::cpu
