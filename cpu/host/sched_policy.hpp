// Host scheduling policies: which queued thread runs next on a pCPU, for how long, and whether a
// waking thread preempts the current one. The HostScheduler owns dispatch and accounting.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "cpu/host/host_thread.hpp"
#include "cpu/params.hpp"

namespace vcpusim::cpu {

class SchedPolicy {
 public:
  virtual ~SchedPolicy() = default;
  virtual void enqueue(int pcpu, HostThread& t, bool waking) = 0;
  virtual void dequeue(int pcpu, HostThread& t) = 0;
  // Removes and returns the next thread, or nullptr.
  virtual HostThread* pick_next(int pcpu) = 0;
  virtual std::size_t queued(int pcpu) const = 0;
  // The current thread ran `ran` more.
  virtual void account(int pcpu, HostThread& t, Tick ran) = 0;
  // How long `curr` may run from its slice start before the next preemption check.
  virtual Tick slice(int pcpu, const HostThread& curr) const = 0;
  virtual bool preempt_on_wake(int pcpu, const HostThread& curr, const HostThread& woken) const = 0;
  // Whether a next buddy (yield_to's target, queued here) is picked before the leftmost thread
  // when `curr` is rescheduled.
  virtual bool prefers_buddy(int pcpu, const HostThread* curr, const HostThread& buddy) const = 0;
  // A migrating thread leaves one run queue for another (keeps vruntime relative).
  virtual void migrate(HostThread& /*t*/, int /*from*/, int /*to*/) {}
  // Which of n equally entitled threads pick_next takes (0: the lowest id).
  void set_tie_break(std::function<std::int64_t(int pcpu, std::int64_t n)> f) {
    tie_break_ = std::move(f);
  }

 protected:
  std::int64_t tie_break(int pcpu, std::int64_t n) const {
    return n > 1 && tie_break_ ? tie_break_(pcpu, n) : 0;
  }

 private:
  std::function<std::int64_t(int, std::int64_t)> tie_break_;
};

// Round-robin: FIFO per pCPU, fixed quantum, no wake-up preemption.
class RrPolicy final : public SchedPolicy {
 public:
  RrPolicy(int pcpus, Tick quantum) : queues_(static_cast<std::size_t>(pcpus)), quantum_(quantum) {}
  void enqueue(int pcpu, HostThread& t, bool waking) override;
  void dequeue(int pcpu, HostThread& t) override;
  HostThread* pick_next(int pcpu) override;
  std::size_t queued(int pcpu) const override {
    return queues_[static_cast<std::size_t>(pcpu)].size();
  }
  void account(int, HostThread&, Tick) override {}
  Tick slice(int, const HostThread&) const override { return quantum_; }
  bool preempt_on_wake(int, const HostThread&, const HostThread&) const override { return false; }
  bool prefers_buddy(int, const HostThread*, const HostThread&) const override { return true; }

 private:
  std::vector<std::deque<HostThread*>> queues_;
  Tick quantum_;
};

// CFS-like: weighted vruntime, sched_period split by weight, sleeper credit of half a latency,
// wake-up preemption past the wake-up granularity (kernel/sched/fair.c, pre-EEVDF).
class FairPolicy final : public SchedPolicy {
 public:
  FairPolicy(int pcpus, const FairParams& p);
  void enqueue(int pcpu, HostThread& t, bool waking) override;
  void dequeue(int pcpu, HostThread& t) override;
  HostThread* pick_next(int pcpu) override;
  std::size_t queued(int pcpu) const override {
    return rqs_[static_cast<std::size_t>(pcpu)].queue.size();
  }
  void account(int pcpu, HostThread& t, Tick ran) override;
  Tick slice(int pcpu, const HostThread& curr) const override;
  bool preempt_on_wake(int pcpu, const HostThread& curr, const HostThread& woken) const override;
  bool prefers_buddy(int pcpu, const HostThread* curr, const HostThread& buddy) const override;
  void migrate(HostThread& t, int from, int to) override;

  Tick latency() const { return latency_; }
  Tick min_granularity() const { return min_gran_; }
  Tick wakeup_granularity() const { return wakeup_gran_; }

 private:
  struct RunQueue {
    std::set<std::pair<std::int64_t, int>> order;  // (vruntime, thread id): stable tie-break
    std::vector<HostThread*> queue;                // members, for lookup by id
    std::int64_t min_vruntime = 0;
    std::int64_t load = 0;  // sum of queued weights
  };
  void update_min(RunQueue& rq, std::int64_t curr_vruntime);
  std::vector<RunQueue> rqs_;
  Tick latency_, min_gran_, wakeup_gran_;
};

std::unique_ptr<SchedPolicy> make_policy(const SchedulerParams& p, int pcpus);

}  // namespace vcpusim::cpu
