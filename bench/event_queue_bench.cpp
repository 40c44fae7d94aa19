// Issue 30: the event queue alone, its buckets and plain calls (sim/core/event_queue.hpp) against
// the 4-ary heap of std::functions it replaced (bench/heap_event_queue.hpp), on the event stream of
// the scale scenario's host: N pCPUs in lockstep cohorts, four vCPUs each (the first a vDSO
// reader, re-arming every 300 ns, the others busy, every 1 us), 3 ms slices that cancel the
// running vCPU's work event and switch to the next, a 4 ms timer tick per vCPU. Every queue must
// pop the same events in the same order: a digest of the popped sequence numbers is compared.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "bench/heap_event_queue.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/core/kernel.hpp"
#include "sim/time.hpp"

namespace vcpusim::bench {
namespace {

using sim::EventCall;
using sim::Phase;
using sim::Tick;

constexpr Tick kReaderStep = 300 * sim::kNanosecond;
constexpr Tick kBusyStep = sim::kMicrosecond;
constexpr Tick kSlice = 3 * sim::kMillisecond;
constexpr Tick kTick = 4 * sim::kMillisecond;
constexpr int kVcpusPerPcpu = 4;
// pCPUs start 10 ns apart in this many cohorts, each in lockstep: about 13 events an instant at
// 256 pCPUs, as the scale scenario's 1024 vCPUs have (its pushes recorded with perf probe).
constexpr int kCohorts = 20;

// `Calls`: the hot events as EventCall (the kernel's way now) or as std::function (before).
template <class Queue, bool Calls>
class LockstepHost {
 public:
  explicit LockstepHost(int pcpus) : pcpus_(static_cast<std::size_t>(pcpus)) {
    for (int p = 0; p < pcpus; ++p) {
      now_ = (p % kCohorts) * 10 * sim::kNanosecond;
      arm_work(p);
      arm_slice(p);
    }
    now_ = 0;
    for (int v = 0; v < pcpus * kVcpusPerPcpu; ++v)
      push(kTick, Phase::kInterrupt, irq_component(v), &LockstepHost::tick, v);
  }

  // The kernel's loop (sim/core/kernel.cpp drive()): look at the next time, pop, run; plus the look
  // a guest operation takes before it yields (Kernel::try_advance). Returns a digest of the order
  // the events ran in.
  std::uint64_t run(Tick end) {
    std::uint64_t digest = 0;
    while (!q_.empty()) {
      const Tick next = q_.top().time;
      if (next > end) break;
      now_ = next;
      digest = digest * 1000003 + q_.top().seq;
      auto call = q_.pop();
      ++events_;
      call();
      if (!q_.empty()) benchmark::DoNotOptimize(q_.top().time);
    }
    return digest;
  }
  std::uint64_t events() const { return events_; }

 private:
  struct Pcpu {
    int running = 0;  // which of its vCPUs
    sim::EventKey work;
  };
  using Handler = void (LockstepHost::*)(std::uint64_t);

  // Components as the machine registers them: pCPUs, then each vCPU and its interrupt source.
  int pcpu_component(int p) const { return p; }
  int vcpu_component(int v) const { return static_cast<int>(pcpus_.size()) + 2 * v; }
  int irq_component(int v) const { return vcpu_component(v) + 1; }

  template <Handler H>
  static void call_handler(void* self, std::uint64_t arg) {
    (static_cast<LockstepHost*>(self)->*H)(arg);
  }
  sim::EventKey push(Tick when, Phase phase, int component, Handler h, std::uint64_t arg) {
    sim::EventKey key{when, static_cast<int>(phase), component, seq_++};
    if constexpr (Calls) {
      if (h == &LockstepHost::work_done)
        q_.push(key, EventCall{&call_handler<&LockstepHost::work_done>, this, arg});
      else if (h == &LockstepHost::slice)
        q_.push(key, EventCall{&call_handler<&LockstepHost::slice>, this, arg});
      else
        q_.push(key, [this, h, arg] { (this->*h)(arg); });
    } else {
      q_.push(key, [this, h, arg] { (this->*h)(arg); });
    }
    return key;
  }

  void arm_work(int p) {
    Pcpu& pc = pcpus_[static_cast<std::size_t>(p)];
    const int v = p * kVcpusPerPcpu + pc.running;
    const Tick step = pc.running == 0 ? kReaderStep : kBusyStep;
    pc.work = push(now_ + step, Phase::kWork, vcpu_component(v), &LockstepHost::work_done,
                   static_cast<std::uint64_t>(p));
  }
  void arm_slice(int p) {
    push(now_ + kSlice, Phase::kHost, pcpu_component(p), &LockstepHost::slice,
         static_cast<std::uint64_t>(p));
  }
  void work_done(std::uint64_t p) { arm_work(static_cast<int>(p)); }
  void slice(std::uint64_t p) {
    Pcpu& pc = pcpus_[p];
    if (!q_.cancel(pc.work)) throw std::logic_error("the running vCPU had no work armed");
    pc.running = (pc.running + 1) % kVcpusPerPcpu;
    arm_work(static_cast<int>(p));
    arm_slice(static_cast<int>(p));
  }
  void tick(std::uint64_t v) {
    push(now_ + kTick, Phase::kInterrupt, irq_component(static_cast<int>(v)), &LockstepHost::tick,
         v);
  }

  Queue q_;
  std::vector<Pcpu> pcpus_;
  std::uint64_t seq_ = 1;
  std::uint64_t events_ = 0;
  Tick now_ = 0;
};

// The digest of the first queue measured at each size; the others must match it.
bool same_order_as_before(int pcpus, std::uint64_t digest) {
  static std::vector<std::pair<int, std::uint64_t>> seen;
  for (const auto& [p, d] : seen)
    if (p == pcpus) return d == digest;
  seen.emplace_back(pcpus, digest);
  return true;
}

template <class Queue, bool Calls>
void run_lockstep(benchmark::State& state) {
  const int pcpus = static_cast<int>(state.range(0));
  const Tick end = 10 * sim::kMillisecond;
  std::uint64_t events = 0, digest = 0;
  for (auto _ : state) {
    LockstepHost<Queue, Calls> host(pcpus);
    digest = host.run(end);
    events = host.events();
  }
  if (!same_order_as_before(pcpus, digest))
    state.SkipWithError("this queue ran the events in another order");
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Queue_Heap(benchmark::State& s) {
  run_lockstep<HeapEventQueue, false>(s);
}
void BM_Queue_BucketsFunctions(benchmark::State& s) {
  run_lockstep<sim::EventQueue, false>(s);
}
void BM_Queue_Buckets(benchmark::State& s) {
  run_lockstep<sim::EventQueue, true>(s);
}

BENCHMARK(BM_Queue_Heap)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Queue_BucketsFunctions)
    ->Arg(16)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);
BENCHMARK(BM_Queue_Buckets)->Arg(16)->Arg(256)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
}  // namespace vcpusim::bench
