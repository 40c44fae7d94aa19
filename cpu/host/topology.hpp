// Where a pCPU sits: its core and socket (host.pcpus, host.threads_per_core, host.sockets).
// Numbering: pCPU p is hardware thread p % threads_per_core of core p / threads_per_core; the
// cores are split evenly among the sockets in order (core c is on socket c * sockets / cores), so
// with 8 pCPUs, 2 threads per core and 2 sockets: pCPUs 0-3 (cores 0, 1) are socket 0, and pCPUs
// 0 and 1 are the SMT siblings of core 0.
#pragma once

namespace vcpusim::cpu {

// How far a cacheline copy is from the accessing pCPU, nearest first.
enum class Distance : int { kHere = 0, kSameCore = 1, kSameSocket = 2, kOtherSocket = 3 };
constexpr int kDistances = 4;

struct Topology {
  int pcpus = 1;
  int threads_per_core = 1;
  int sockets = 1;

  int cores() const { return pcpus / threads_per_core; }
  int core_of(int pcpu) const { return pcpu / threads_per_core; }
  int socket_of(int pcpu) const { return core_of(pcpu) * sockets / cores(); }
  Distance distance(int a, int b) const {
    if (a == b) return Distance::kHere;
    if (core_of(a) == core_of(b)) return Distance::kSameCore;
    if (socket_of(a) == socket_of(b)) return Distance::kSameSocket;
    return Distance::kOtherSocket;
  }
};

}  // namespace vcpusim::cpu
