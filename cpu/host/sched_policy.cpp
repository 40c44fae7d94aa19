#include "cpu/host/sched_policy.hpp"

#include <algorithm>

namespace vcpusim::cpu {

void RrPolicy::enqueue(int pcpu, HostThread& t, bool) {
  queues_[static_cast<std::size_t>(pcpu)].push_back(&t);
}

void RrPolicy::dequeue(int pcpu, HostThread& t) {
  auto& q = queues_[static_cast<std::size_t>(pcpu)];
  q.erase(std::remove(q.begin(), q.end(), &t), q.end());
}

HostThread* RrPolicy::pick_next(int pcpu) {
  auto& q = queues_[static_cast<std::size_t>(pcpu)];
  if (q.empty()) return nullptr;
  HostThread* t = q.front();
  q.pop_front();
  return t;
}

namespace {
Tick scaled(Tick v, const FairParams& p, int pcpus) {
  if (!p.scale_with_cpus.value) return v;
  int n = std::min(pcpus, 8);
  int log2 = 0;
  while ((2 << log2) <= n) ++log2;
  return v * (1 + log2);
}
}  // namespace

FairPolicy::FairPolicy(int pcpus, const FairParams& p)
    : rqs_(static_cast<std::size_t>(pcpus)),
      latency_(scaled(p.sched_latency.value, p, pcpus)),
      min_gran_(scaled(p.min_granularity.value, p, pcpus)),
      wakeup_gran_(scaled(p.wakeup_granularity.value, p, pcpus)) {}

void FairPolicy::update_min(RunQueue& rq, std::int64_t curr_vruntime) {
  std::int64_t candidate = curr_vruntime;
  if (!rq.order.empty()) candidate = std::min(candidate, rq.order.begin()->first);
  rq.min_vruntime = std::max(rq.min_vruntime, candidate);
}

void FairPolicy::enqueue(int pcpu, HostThread& t, bool waking) {
  RunQueue& rq = rqs_[static_cast<std::size_t>(pcpu)];
  if (waking) {
    // Sleeper credit: at most half a latency behind the queue (GENTLE_FAIR_SLEEPERS).
    t.vruntime_ = std::max(t.vruntime_, rq.min_vruntime - static_cast<std::int64_t>(latency_ / 2));
  }
  rq.order.emplace(t.vruntime_, t.id());
  rq.queue.push_back(&t);
  rq.load += t.weight();
}

void FairPolicy::dequeue(int pcpu, HostThread& t) {
  RunQueue& rq = rqs_[static_cast<std::size_t>(pcpu)];
  rq.order.erase({t.vruntime_, t.id()});
  rq.queue.erase(std::remove(rq.queue.begin(), rq.queue.end(), &t), rq.queue.end());
  rq.load -= t.weight();
}

HostThread* FairPolicy::pick_next(int pcpu) {
  RunQueue& rq = rqs_[static_cast<std::size_t>(pcpu)];
  if (rq.order.empty()) return nullptr;
  auto first = rq.order.begin();
  std::int64_t ties = 0;
  for (auto it = first; it != rq.order.end() && it->first == first->first; ++it) ++ties;
  if (ties > 1) std::advance(first, tie_break(pcpu, ties));
  const int id = first->second;
  HostThread* t = *std::find_if(rq.queue.begin(), rq.queue.end(),
                                [id](const HostThread* q) { return q->id() == id; });
  dequeue(pcpu, *t);
  update_min(rq, t->vruntime_);
  return t;
}

void FairPolicy::account(int pcpu, HostThread& t, Tick ran) {
  // The remainder is carried, so settling in one piece or in many gives the same vruntime.
  // Settles are short: 64-bit arithmetic gives the same quotient and remainder without the
  // 128-bit division routine (4.5% of a run that settles at every operation, on its own).
  const auto step = [&t, ran](auto wide) {
    const decltype(wide) scaled = static_cast<decltype(wide)>(ran) * 1024 + t.vruntime_rem_;
    t.vruntime_ += static_cast<std::int64_t>(scaled / t.weight());
    t.vruntime_rem_ = static_cast<std::int64_t>(scaled % t.weight());
  };
  if (ran < (std::int64_t{1} << 52))
    step(std::int64_t{0});
  else
    step(__int128{0});
  update_min(rqs_[static_cast<std::size_t>(pcpu)], t.vruntime_);
}

Tick FairPolicy::slice(int pcpu, const HostThread& curr) const {
  const RunQueue& rq = rqs_[static_cast<std::size_t>(pcpu)];
  const auto nr = static_cast<Tick>(rq.queue.size() + 1);
  const Tick nr_latency = latency_ / std::max<Tick>(min_gran_, 1);
  const Tick period = nr > nr_latency ? nr * min_gran_ : latency_;
  const std::int64_t total = rq.load + curr.weight();
  return std::max<Tick>(period * curr.weight() / total, min_gran_);
}

bool FairPolicy::preempt_on_wake(int, const HostThread& curr, const HostThread& woken) const {
  const std::int64_t gran = wakeup_gran_ * 1024 / woken.weight();
  return curr.vruntime_ - woken.vruntime_ > gran;
}

// pick_next_entity with a next buddy: taken unless it is more than a wake-up granularity (scaled
// by the leftmost's weight) behind the leftmost entity.
bool FairPolicy::prefers_buddy(int pcpu, const HostThread* curr, const HostThread& buddy) const {
  const RunQueue& rq = rqs_[static_cast<std::size_t>(pcpu)];
  std::int64_t left = buddy.vruntime_;
  std::int64_t left_weight = buddy.weight();
  if (!rq.order.empty() && rq.order.begin()->first < left) {
    left = rq.order.begin()->first;
    for (const HostThread* t : rq.queue)
      if (t->id() == rq.order.begin()->second) left_weight = t->weight();
  }
  if (curr && curr->vruntime_ < left) {
    left = curr->vruntime_;
    left_weight = curr->weight();
  }
  return buddy.vruntime_ - left <= wakeup_gran_ * 1024 / left_weight;
}

void FairPolicy::migrate(HostThread& t, int from, int to) {
  if (from < 0 || from == to) return;
  t.vruntime_ += rqs_[static_cast<std::size_t>(to)].min_vruntime -
                 rqs_[static_cast<std::size_t>(from)].min_vruntime;
}

std::unique_ptr<SchedPolicy> make_policy(const SchedulerParams& p, int pcpus) {
  if (p.policy.value == SchedulerKind::kRr) return std::make_unique<RrPolicy>(pcpus, p.rr_quantum.value);
  return std::make_unique<FairPolicy>(pcpus, p.fair);
}

}  // namespace vcpusim::cpu
