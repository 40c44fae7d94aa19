#include "cpu/host/load_balancer.hpp"

#include <algorithm>

#include "cpu/host/host_scheduler.hpp"

namespace vcpusim::cpu {
namespace {
// sd_init (kernel/sched/topology.c, 6.5): busy_factor 16, imbalance_pct 117 (110 for SMT),
// cache_nice_tries 1 above SMT (0 at SMT); SCHED_CAPACITY_SCALE 1024 per pCPU.
constexpr int kBusyFactor = 16;
constexpr std::int64_t kCapacity = 1024;
}  // namespace

LoadBalancer::LoadBalancer(HostScheduler& s, const Topology& topology, Tick migration_cost)
    : s_(s), topo_(topology), migration_cost_(migration_cost) {
  build_domains();
}

// build_sched_domains: SMT (the core's threads), MC (the socket's cores: the LLC), PKG (the
// sockets). A level whose span equals its child's, or with one group, is degenerate and dropped
// (sd_degenerate / sd_parent_degenerate).
void LoadBalancer::build_domains() {
  const int n = topo_.pcpus;
  domains_.assign(static_cast<std::size_t>(n), {});
  timers_.assign(static_cast<std::size_t>(n), sim::EventKey{});
  for (int p = 0; p < n; ++p) {
    auto add = [&](const char* name, auto same_span, auto same_group, bool smt) {
      Domain d{name, {}, {}, smt ? 110 : 117, smt ? 0 : 1, smt, 0, 0};
      for (int c = 0; c < n; ++c)
        if (same_span(c)) d.span.push_back(c);
      // Groups in the kernel's order: the local group first, then by lowest member.
      std::vector<int> seen;
      for (int pass = 0; pass < 2; ++pass)
        for (int c : d.span) {
          if ((pass == 0) != same_group(p, c)) continue;
          bool known = false;
          for (const auto& g : d.groups) known = known || same_group(g.front(), c);
          if (known) continue;
          std::vector<int> g;
          for (int m : d.span)
            if (same_group(c, m)) g.push_back(m);
          d.groups.push_back(g);
        }
      const auto& levels = domains_[static_cast<std::size_t>(p)];
      const std::size_t child = levels.empty() ? 1 : levels.back().span.size();
      if (d.groups.size() < 2 || d.span.size() == child) return;
      d.min_interval = static_cast<Tick>(d.span.size()) * sim::kMillisecond;
      d.balance_interval = d.min_interval;
      domains_[static_cast<std::size_t>(p)].push_back(std::move(d));
    };
    const auto core = [this](int a, int b) { return topo_.core_of(a) == topo_.core_of(b); };
    const auto socket = [this](int a, int b) { return topo_.socket_of(a) == topo_.socket_of(b); };
    add("SMT", [&](int c) { return core(p, c); }, [](int a, int b) { return a == b; }, true);
    add("MC", [&](int c) { return socket(p, c); }, core, false);
    add("PKG", [](int) { return true; }, socket, false);
  }
}

void LoadBalancer::start() {
  for (int p = 0; p < topo_.pcpus; ++p) arm(p);
}

std::int64_t LoadBalancer::decide(int pcpu, const char* what, std::int64_t n) const {
  if (n < 2 || !s_.decisions_) return 0;
  return s_.decisions_->nominal(s_.kernel_.now(),
                                s_.pcpus_[static_cast<std::size_t>(pcpu)].component, what, n);
}

// The next balance of `pcpu`: the earliest last_balance + interval over its domains, where a
// busy pCPU waits busy_factor times longer (get_sd_balance_interval).
void LoadBalancer::arm(int pcpu) {
  auto& levels = domains_[static_cast<std::size_t>(pcpu)];
  if (levels.empty()) return;
  const bool busy = !s_.idle(pcpu);
  Tick next = sim::kForever;
  for (const Domain& sd : levels)
    next = std::min(next, sd.last_balance + sd.balance_interval * (busy ? kBusyFactor : 1));
  next = std::max(next, s_.kernel_.now() + 1);
  sim::Kernel& k = s_.kernel_;
  k.cancel(timers_[static_cast<std::size_t>(pcpu)]);
  timers_[static_cast<std::size_t>(pcpu)] =
      k.at(next, sim::Phase::kHost, s_.pcpus_[static_cast<std::size_t>(pcpu)].component,
           [this, pcpu] {
             timers_[static_cast<std::size_t>(pcpu)] = sim::EventKey{};
             tick(pcpu);
           });
}

// rebalance_domains (SCHED_SOFTIRQ raised by trigger_load_balance from the tick).
// While the host holds the pCPU (an injected preemption, an interrupt of host noise) the pass
// balances nothing but still counts as done, so the next one is an interval later: re-arming
// for the next tick instead would spin one event per tick until the pCPU is back.
void LoadBalancer::tick(int pcpu) {
  const Tick now = s_.kernel_.now();
  const bool stolen = s_.stolen(pcpu);
  bool busy = !s_.idle(pcpu);
  for (Domain& sd : domains_[static_cast<std::size_t>(pcpu)]) {
    if (now < sd.last_balance + sd.balance_interval * (busy ? kBusyFactor : 1)) continue;
    if (!stolen && load_balance(pcpu, sd, busy ? Idle::kNotIdle : Idle::kIdle))
      busy = !s_.idle(pcpu);
    sd.last_balance = now;
  }
  arm(pcpu);
}

// newidle_balance: with some run queue overloaded (rd->overload), walk the domains bottom-up
// and stop at the first pull. The kernel also stops when the pCPU's average idle is below the
// domains' measured balancing cost; balancing costs no simulated time here, so it never does.
void LoadBalancer::newidle(int pcpu) {
  bool overload = false;
  for (int c = 0; c < topo_.pcpus; ++c) overload = overload || s_.nr_running(c) > 1;
  if (!overload) return;
  for (Domain& sd : domains_[static_cast<std::size_t>(pcpu)])
    if (load_balance(pcpu, sd, Idle::kNewlyIdle)) return;
}

// should_we_balance: new-idle always; otherwise only the first idle pCPU of the local group, or
// the group's first pCPU when none is idle, balances this domain.
bool LoadBalancer::should_we_balance(int pcpu, const Domain& sd, Idle idle) const {
  if (idle == Idle::kNewlyIdle) return true;
  for (int c : sd.groups.front())
    if (s_.idle(c)) return c == pcpu;
  return sd.groups.front().front() == pcpu;
}

// update_sg_lb_stats and group_classify (overloaded: more runnable threads than pCPUs).
LoadBalancer::GroupStats LoadBalancer::stats(const Domain& sd, std::size_t g) const {
  GroupStats st;
  st.index = static_cast<int>(g);
  for (int c : sd.groups[g]) {
    st.load += s_.load(c);
    st.nr_running += s_.nr_running(c);
    if (s_.idle(c)) ++st.idle_cpus;
    ++st.weight;
  }
  st.avg_load = st.load * kCapacity / (kCapacity * st.weight);
  st.type = st.nr_running > st.weight ? 2 : st.nr_running == st.weight ? 1 : 0;
  return st;
}

// task_hot: SMT siblings share the cache; otherwise hot if it ran within migration_cost.
bool LoadBalancer::task_hot(const HostThread& t, const Domain& sd, Tick now) const {
  if (sd.smt || migration_cost_ == 0) return false;
  return now - t.last_ran() < migration_cost_;
}

// load_balance -> find_busiest_group -> calculate_imbalance -> find_busiest_queue ->
// detach_tasks / attach_tasks (fair.c, 6.5), without the util signals: a group's load is its
// threads' weights over its pCPUs' capacity.
bool LoadBalancer::load_balance(int pcpu, Domain& sd, Idle idle) {
  if (!should_we_balance(pcpu, sd, idle)) return false;
  // Every entry point settles accounting before it decides (vruntime moves with a migration).
  for (int c : sd.span) s_.settle_pcpu(c);
  const Tick now = s_.kernel_.now();
  const GroupStats local = stats(sd, 0);
  std::int64_t total_load = local.load;
  int total_weight = local.weight;
  // update_sd_pick_busiest: highest type; among overloaded / fully busy the highest avg_load;
  // among groups with spare pCPUs the fewest idle ones, then the most runnable threads.
  std::vector<GroupStats> busiest;
  for (std::size_t g = 1; g < sd.groups.size(); ++g) {
    const GroupStats st = stats(sd, g);
    total_load += st.load;
    total_weight += st.weight;
    if (st.nr_running == 0) continue;
    const auto rank = [](const GroupStats& a) {
      return a.type == 0 ? std::make_pair(-static_cast<std::int64_t>(a.idle_cpus),
                                          static_cast<std::int64_t>(a.nr_running))
                         : std::make_pair(a.avg_load, std::int64_t{0});
    };
    if (busiest.empty() || st.type > busiest.front().type ||
        (st.type == busiest.front().type && rank(st) > rank(busiest.front())))
      busiest = {st};
    else if (st.type == busiest.front().type && rank(st) == rank(busiest.front()))
      busiest.push_back(st);
  }
  const auto balanced = [&sd] {
    sd.nr_balance_failed = 0;
    sd.balance_interval = std::min(sd.balance_interval * 2, 2 * sd.min_interval);
    return false;
  };
  if (busiest.empty()) return balanced();
  const GroupStats b =
      busiest[static_cast<std::size_t>(decide(pcpu, "balance.group", busiest.size()))];
  const std::int64_t sds_avg = total_load * kCapacity / (kCapacity * total_weight);
  // find_busiest_group's early exits.
  if (local.type > b.type) return balanced();
  if (local.type == 2 && (local.avg_load >= b.avg_load || local.avg_load >= sds_avg ||
                          100 * b.avg_load <= sd.imbalance_pct * local.avg_load))
    return balanced();
  if (b.type != 2) {
    if (idle == Idle::kNotIdle) return balanced();
    if (b.weight > 1 && local.idle_cpus <= b.idle_cpus + 1) return balanced();
    if (b.nr_running == 1) return balanced();
  }
  // calculate_imbalance: a local group with spare pCPUs takes threads (half the difference, at
  // least one); otherwise load moves until both sides reach the domain's average.
  bool by_load = false;
  std::int64_t imbalance = 0;
  if (local.type == 0) {
    imbalance = std::max<std::int64_t>(1, (b.nr_running - local.nr_running) / 2);
  } else {
    if (local.avg_load >= b.avg_load || local.avg_load >= sds_avg) return balanced();
    by_load = true;
    imbalance = std::min((b.avg_load - sds_avg) * b.weight * kCapacity,
                         (sds_avg - local.avg_load) * local.weight * kCapacity) /
                kCapacity;
    if (imbalance <= 0) return balanced();
  }
  // find_busiest_queue: most load (by_load; a pCPU whose single thread outweighs the imbalance
  // is skipped) or most runnable threads.
  std::vector<int> queues;
  std::int64_t best = -1;
  for (int c : sd.groups[static_cast<std::size_t>(b.index)]) {
    const int nr = s_.nr_running(c);
    const std::int64_t key = by_load ? s_.load(c) : nr;
    if (by_load && nr == 1 && s_.load(c) > imbalance) continue;
    if (key > best) queues = {c}, best = key;
    else if (key == best) queues.push_back(c);
  }
  if (queues.empty()) return balanced();
  const int src = queues[static_cast<std::size_t>(decide(pcpu, "balance.queue", queues.size()))];
  // detach_tasks: from the least recently run (the tail of cfs_tasks); can_migrate_task skips
  // threads pinned elsewhere and cache-hot ones (unless balancing keeps failing).
  std::vector<HostThread*> queued = s_.queued_threads(src);
  std::stable_sort(queued.begin(), queued.end(), [](const HostThread* x, const HostThread* y) {
    return x->last_ran() < y->last_ran();
  });
  int moved = 0;
  std::size_t i = 0;
  while (i < queued.size() && imbalance > 0) {
    if (idle != Idle::kNotIdle && s_.nr_running(src) <= 1) break;
    // Threads that ran equally long ago are equals: which goes first is a decision.
    std::size_t ties = 1;
    while (i + ties < queued.size() && queued[i + ties]->last_ran() == queued[i]->last_ran())
      ++ties;
    if (ties > 1) std::swap(queued[i], queued[i + static_cast<std::size_t>(decide(
                                                    pcpu, "balance.task", ties))]);
    HostThread& t = *queued[i++];
    const auto& aff = t.affinity();
    if (std::find(aff.begin(), aff.end(), pcpu) == aff.end()) continue;
    if (task_hot(t, sd, now) && sd.nr_balance_failed <= sd.cache_nice_tries) continue;
    if (by_load) {
      if ((t.weight() >> std::min(sd.nr_balance_failed, 62)) > imbalance) continue;
      imbalance -= t.weight();
    } else {
      --imbalance;
    }
    s_.migrate_queued(t, src, pcpu);
    ++moved;
    if (idle == Idle::kNewlyIdle) break;  // do not take everything: it may be taken back
  }
  // Unbalanced either way: the interval goes back to its minimum; a failure counts towards
  // overriding cache-hotness (nr_balance_failed > cache_nice_tries).
  sd.balance_interval = sd.min_interval;
  if (moved == 0) {
    if (idle != Idle::kNewlyIdle) ++sd.nr_balance_failed;
    return false;
  }
  sd.nr_balance_failed = 0;
  return true;
}

// select_task_rq_fair for a wake-up (SD_BALANCE_WAKE is off by default: the fast path).
int LoadBalancer::select_rq(const HostThread& t, int waker) {
  const auto& aff = t.affinity();
  const auto allowed = [&aff](int c) { return std::find(aff.begin(), aff.end(), c) != aff.end(); };
  const int prev = t.pcpu() >= 0 && allowed(t.pcpu()) ? t.pcpu() : -1;
  int target = prev;
  const int self = waker >= 0 ? waker : prev;
  if (prev >= 0 && self >= 0 && self != prev && allowed(self)) {
    // wake_affine: wake_affine_idle, then wake_affine_weight (WA_BIAS), else prev.
    if (s_.idle(self) && share_cache(self, prev)) {
      target = s_.idle(prev) ? prev : self;
    } else if (!s_.idle(prev)) {
      const std::int64_t this_eff = (s_.load(self) + t.weight()) * 100;
      const std::int64_t prev_eff = s_.load(prev) * (100 + (117 - 100) / 2);
      if (this_eff < prev_eff) target = self;
    }
  }
  // A first wake-up (a new thread: find_idlest_cpu, SD_BALANCE_FORK) or a previous pCPU now
  // outside the affinity: the allowed pCPU with the least load, idle ones first; equals are a
  // decision (the lowest by default).
  if (target < 0) {
    std::vector<int> best;
    std::int64_t best_key = -1;
    for (int c : aff) {
      const std::int64_t key = s_.idle(c) ? 0 : 1 + s_.load(c);
      if (best.empty() || key < best_key) best = {c}, best_key = key;
      else if (key == best_key) best.push_back(c);
    }
    target = best[static_cast<std::size_t>(
        s_.decisions_ && best.size() > 1
            ? s_.decisions_->nominal(s_.kernel_.now(), t.component(), "wake.pcpu",
                                     static_cast<std::int64_t>(best.size()))
            : 0)];
    return target;
  }
  // select_idle_sibling: the target if idle; the previous pCPU if it shares the cache and is
  // idle; then an idle pCPU of the target's LLC, scanned from target + 1 (select_idle_cpu),
  // whole idle cores first when SMT has one (select_idle_core). Any of them is a decision.
  if (s_.idle(target)) return target;
  if (prev >= 0 && prev != target && share_cache(prev, target) && s_.idle(prev)) return prev;
  std::vector<int> idle_cpus, idle_cores;
  for (int k = 1; k < topo_.pcpus; ++k) {
    const int c = (target + k) % topo_.pcpus;
    if (!share_cache(c, target) || !allowed(c) || !s_.idle(c)) continue;
    idle_cpus.push_back(c);
    bool whole = true;
    for (int m = 0; m < topo_.pcpus; ++m)
      if (topo_.core_of(m) == topo_.core_of(c) && !s_.idle(m)) whole = false;
    if (whole) idle_cores.push_back(c);
  }
  const auto& pool = !idle_cores.empty() ? idle_cores : idle_cpus;
  if (pool.empty()) return target;
  return pool[static_cast<std::size_t>(
      s_.decisions_ ? s_.decisions_->nominal(s_.kernel_.now(), t.component(), "wake.pcpu",
                                             static_cast<std::int64_t>(pool.size()))
                    : 0)];
}

}  // namespace vcpusim::cpu
