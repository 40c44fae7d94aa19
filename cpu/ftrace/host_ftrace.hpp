// The simulated host's schedule as ftrace text (`run --host-trace`, docs/host-trace.md): the
// scheduler's dispatch, deschedule, sleep, wake and steal events (recorded by the "pcpu"
// components) become sched_switch and sched_wakeup lines in the form of tracefs' `trace` file,
// so the tools and scripts that read a real host's recording read the simulated one. A
// deschedule and the dispatch that follows it at the same time on the same pCPU are one switch.
//
// Tasks: the idle task is pid 0 (swapper/N, "<idle>" in the task column, as the kernel prints
// it); host thread `id` (vCPU threads, loads, kworkers, emulator threads) is pid 1000 + id with
// its name as comm and prio 120 + nice; the host taking a pCPU (HostScheduler::steal: explore's
// preemptions, a reserved trace load) is the RT task steal/N (prio 0), pid 1000 + threads + N.
// Host noise interrupts (cpu/host/host_noise.hpp) are irq_handler_entry/exit (irq 0, name
// host_noise) or softirq_entry/exit (vec 3, NET_RX) in the context of the task they interrupted,
// which stays current, as on a real host. The VM's exits and entries (the vCPU's "kvm.exit" and
// "kvm.entry" notes, and a preemption of a vCPU in guest mode, whose host interrupt is an
// EXTERNAL_INTERRUPT exit) are kvm_exit and kvm_entry lines in KVM's x86 form, rip and the exit
// information 0 (the model has no guest addresses). Times are truncated to the microsecond, or
// to the nanosecond when asked (`run --host-trace-ns`).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "cpu/host/host_scheduler.hpp"
#include "sim/record/recorder.hpp"

namespace vcpusim::cpu {

class HostFtraceWriter final : public sim::EventSink {
 public:
  // Writes the header at once; the threads are the scheduler's. `ns`: timestamps in nanoseconds
  // (nine decimals) instead of the kernel's microseconds.
  HostFtraceWriter(std::ostream& out, const HostScheduler& scheduler, bool ns = false);
  void event(const sim::EventView& e) override;
  void label(std::int64_t, const std::string&) override {}
  // Writes what is pending and a last line at `end` (a trace_marker line), so a reader knows
  // the recording runs to the end of the run.
  void finish(sim::Tick end);

 private:
  struct Task {
    std::string comm;     // in the fields
    std::string context;  // in the task column ("<idle>" for pid 0)
    std::int64_t pid;
    int prio;
  };
  static constexpr int kIdle = -1;
  static constexpr int kSteal = -2;
  struct Pcpu {
    int current = kIdle;  // a thread id, kIdle or kSteal
    bool pending = false;  // `prev` left at `at`; who comes next is not known yet
    int prev = kIdle;
    const char* state = "R";
    sim::Tick at = 0;
    bool steal_pending = false;  // a steal at `steal_at`: an interrupt if host noise names it
    sim::Tick steal_at = 0;
    int irq = 0;  // 1: in a noise hard irq, 2: in a noise softirq
  };
  const Task& task(int pcpu, int who) const;
  void switch_line(int pcpu, sim::Tick t, int prev, const char* state, int next);
  void take_over(int pcpu, sim::Tick t, int next);
  // Pending switch-outs from before `t` went idle; pending steals from before `t` took the pCPU.
  void flush(sim::Tick t);
  void resolve_steal(int pcpu);
  void marker(sim::Tick t, const char* text);
  void vcpu_note(const sim::EventView& e, int thread);
  void irq_line(int pcpu, sim::Tick t, bool entry);

  std::ostream& out_;
  bool ns_;
  std::vector<Task> threads_;  // by thread id
  std::vector<Task> idle_;     // per pCPU
  std::vector<Task> steal_;    // per pCPU
  std::vector<int> pcpu_of_;   // by component id: its pCPU, or -1
  std::vector<int> vcpu_of_;   // by component id: the vCPU thread's id, or -1
  std::vector<int> vcpu_index_;  // by thread id: the vCPU's index, or -1
  std::vector<bool> in_guest_;   // by thread id: a vCPU thread running guest code
  std::vector<Pcpu> pcpus_;
};

}  // namespace vcpusim::cpu
