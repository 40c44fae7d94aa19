// CFS load balancing as Linux 6.5 does it (kernel/sched/fair.c, before EEVDF): scheduling
// domains from the topology (SMT: one core's threads; MC: one socket, the LLC; PKG: all
// sockets), a periodic balance per pCPU and domain (rebalance_domains, an event at the pCPU's
// next_balance, never per-step polling), new-idle pulls when a pCPU runs out of work
// (newidle_balance), and wake-up placement (select_task_rq_fair: wake_affine, then
// select_idle_sibling in the LLC). Load is the sum of nice weights of a pCPU's runnable threads
// (the kernel averages it with PELT; here it is the instantaneous weight). A thread that ran
// within migration_cost is cache hot (task_hot) and stays unless the domain's balancing failed
// more than cache_nice_tries times; pinned threads never move (can_migrate_task). Choices among
// equals (busiest group, busiest queue, which thread, which idle pCPU) are decisions.
// Not modelled: active balancing of a running thread (need_active_balance), NUMA balancing,
// util/capacity signals, misfit and asymmetric capacity, NOHZ idle balancing by a kicked CPU
// (an idle pCPU balances on its own timer instead).
#pragma once
#include <cstdint>
#include <vector>

#include "cpu/host/host_thread.hpp"
#include "cpu/host/topology.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::cpu {

class HostScheduler;

class LoadBalancer {
 public:
  LoadBalancer(HostScheduler& s, const Topology& topology, Tick migration_cost);
  // Arms each pCPU's balance timer (Machine::run, before the kernel runs).
  void start();
  // select_task_rq_fair for a wake-up of `t` (its previous pCPU in t.pcpu()): the pCPU it is
  // queued on. `waker` is the waking pCPU, or -1 (an interrupt on the previous pCPU).
  int select_rq(const HostThread& t, int waker);
  // newidle_balance: `pcpu` is about to go idle; pulls one thread if a domain allows it.
  void newidle(int pcpu);
  bool share_cache(int a, int b) const { return topo_.socket_of(a) == topo_.socket_of(b); }

 private:
  enum class Idle { kNotIdle, kIdle, kNewlyIdle };  // enum cpu_idle_type
  struct Domain {
    const char* name;
    std::vector<int> span;
    std::vector<std::vector<int>> groups;  // the child domains' spans; groups[0] holds this pCPU
    int imbalance_pct;
    int cache_nice_tries;
    bool smt;                // SD_SHARE_CPUCAPACITY: siblings share the cache, never hot
    Tick min_interval;       // sd_weight ms
    Tick balance_interval;   // doubles while balanced, back to min_interval after a pull
    Tick last_balance = 0;
    int nr_balance_failed = 0;
  };
  struct GroupStats {
    int index = -1;
    std::int64_t load = 0;  // sum of runnable weights
    std::int64_t avg_load = 0;
    int nr_running = 0;
    int idle_cpus = 0;
    int weight = 0;  // pCPUs
    int type = 0;    // group_has_spare 0, group_fully_busy 1, group_overloaded 2
  };
  void build_domains();
  void tick(int pcpu);
  void arm(int pcpu);
  // load_balance(): true when it moved a thread to `pcpu`.
  bool load_balance(int pcpu, Domain& sd, Idle idle);
  bool should_we_balance(int pcpu, const Domain& sd, Idle idle) const;
  GroupStats stats(const Domain& sd, std::size_t g) const;
  bool task_hot(const HostThread& t, const Domain& sd, Tick now) const;
  std::int64_t decide(int pcpu, const char* what, std::int64_t n) const;

  HostScheduler& s_;
  Topology topo_;
  Tick migration_cost_;
  std::vector<std::vector<Domain>> domains_;  // per pCPU, lowest level first
  std::vector<sim::EventKey> timers_;
};

}  // namespace vcpusim::cpu
