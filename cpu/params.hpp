// Host, VM and cost-model parameters (scenario sections "host", "vm", "costs").
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cpu/ftrace/ftrace_import.hpp"
#include "cpu/host/noise_params.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::cpu {

using sim::Tick;

// Floors that bound the events a scenario makes per simulated ns (the host load windows, the
// costs every guest loop pays): at 1 ps costs a tight reader loop ran 1100 steps per simulated ns.
// A host load window (duty or poisson busy/idle): below any host timer's resolution.
constexpr Tick kMinLoadWindow = sim::kMicrosecond;
// One guest operation (a load, a store, an atomic, a barrier, rdtsc, a VM exit or entry, an
// interrupt entry or exit, a spin re-check, a spin-loop iteration): one cycle at 10 GHz.
constexpr Tick kMinOperationCost = 100 * sim::kPicosecond;

// CFS/EEVDF-like tunables; defaults are the kernel's before scaling by 1 + log2(min(pcpus, 8)).
struct FairParams : sim::ParamSet {
  sim::DurationParam sched_latency{
      *this,
      "sched_latency",
      6 * sim::kMillisecond,
      sim::kMicrosecond,
      sim::kSecond,
      "target period in which every runnable thread runs once (unscaled)"};
  sim::DurationParam min_granularity{
      *this,        "min_granularity",         750 * sim::kMicrosecond, sim::kMicrosecond,
      sim::kSecond, "minimum slice (unscaled)"};
  sim::DurationParam wakeup_granularity{
      *this, "wakeup_granularity", sim::kMillisecond,
      0,     sim::kSecond,         "vruntime lead a waking thread needs to preempt (unscaled)"};
  sim::BoolParam scale_with_cpus{
      *this, "scale_with_cpus", true,
      "multiply the three tunables by 1 + log2(min(pcpus, 8)) as Linux does"};
  // min_granularity at most sched_latency: a minimum slice longer than the period.
  void validate(const sim::Node& node) const override;
};

enum class SchedulerKind { kFair, kRr };

struct SchedulerParams : sim::ParamSet {
  SchedulerParams() { add_section("fair", fair, "tunables of the fair policy"); }
  sim::EnumParam<SchedulerKind> policy{
      *this,
      "policy",
      SchedulerKind::kFair,
      {{"fair", SchedulerKind::kFair}, {"rr", SchedulerKind::kRr}},
      "host scheduler: CFS-like fair scheduler, or round-robin with a fixed quantum"};
  sim::DurationParam rr_quantum{*this,
                                "rr_quantum",
                                4 * sim::kMillisecond,
                                sim::kMicrosecond,
                                sim::kSecond,
                                "time slice of the rr policy"};
  // CFS load balancing (cpu/host/load_balancer.hpp, Linux 6.5 kernel/sched/fair.c).
  sim::BoolParam balance{
      *this, "balance", true,
      "fair policy: CFS load balancing (periodic per scheduling domain, new-idle pulls, "
      "select_idle_sibling wake-up placement); false keeps the old placement (a thread moves "
      "only when it wakes: previous pCPU if idle, else an idle pCPU, else the previous one)"};
  sim::DurationParam migration_cost{
      *this,
      "migration_cost",
      500 * sim::kMicrosecond,
      0,
      sim::kSecond,
      "sysctl_sched_migration_cost: a thread that ran within this is cache hot and the balancer "
      "leaves it unless balancing failed more than cache_nice_tries (1) times; 0: never hot"};
  FairParams fair;
};

enum class LoadKind { kDuty, kPoisson, kScript, kTrace };
enum class TraceMode { kDemand, kReserve };

// The longest window a trace load may start at or span (a recording of an hour is ~10 GB).
constexpr Tick kMaxTraceWindow = 3600 * sim::kSecond;

// One host load generator: a host thread that wants a CPU during its busy windows.
struct LoadParams : sim::ParamSet {
  sim::EnumParam<LoadKind> kind{
      *this,
      "kind",
      LoadKind::kDuty,
      {{"duty", LoadKind::kDuty},
       {"poisson", LoadKind::kPoisson},
       {"script", LoadKind::kScript},
       {"trace", LoadKind::kTrace}},
      "duty: periodic busy/idle windows; poisson: exponential busy and idle times; "
      "script: explicit busy windows; trace: a recorded host's busy intervals "
      "(docs/host-trace.md)"};
  sim::IntListParam cpus{*this, "cpus", {0}, 0, 1023, "pCPUs the load thread may run on"};
  sim::IntParam nice{*this, "nice", 0, -20, 19,
                     "host nice value (weight in the fair policy); trace: added to each "
                     "recorded fair thread's nice"};
  sim::DurationParam busy{*this,
                          "busy",
                          10 * sim::kMillisecond,
                          sim::kNanosecond,
                          100 * sim::kSecond,
                          "duty: busy window length; poisson: mean busy time; at least 1us"};
  sim::DurationParam idle{*this,
                          "idle",
                          0,
                          0,
                          100 * sim::kSecond,
                          "duty: idle window length, 0 (always busy) or at least 1us; poisson: "
                          "mean idle time, at least 1us"};
  sim::DurationParam phase{
      *this, "phase", 0, 0, 100 * sim::kSecond, "duty: start of the first busy window"};
  // Left to the decision source: a duty load whose placement the scenario does not fix.
  sim::DurationParam phase_max{*this,
                               "phase_max",
                               0,
                               0,
                               100 * sim::kSecond,
                               "duty: when above phase, the first busy window starts at a "
                               "decision uniform in [phase, phase_max] (explore picks it)"};
  sim::DurationParam busy_max{*this,
                              "busy_max",
                              0,
                              0,
                              100 * sim::kSecond,
                              "duty: when above busy, each busy window lasts a decision uniform "
                              "in [busy, busy_max] (explore picks it); at most busy + idle"};
  // trace: the recording and how it is replayed (docs/host-trace.md).
  sim::StringParam file{*this, "file", "",
                        "trace: the recording to replay (a relative path is taken from the "
                        "scenario file's directory)"};
  sim::EnumParam<TraceFormat> format{
      *this,
      "format",
      TraceFormat::kAuto,
      {{"auto", TraceFormat::kAuto},
       {"ftrace", TraceFormat::kFtrace},
       {"trace-cmd", TraceFormat::kTraceCmd},
       {"perf", TraceFormat::kPerf}},
      "trace: the recording's format, with sched:sched_switch events; auto: told by its first "
      "event line (an imported recording, vcpusim load import's JSON, is always told); ftrace: "
      "the text of tracefs' trace or trace_pipe file; trace-cmd: the text of trace-cmd report; "
      "perf: the text of perf sched script"};
  sim::IntListParam trace_cpus{*this,
                               "trace_cpus",
                               {},
                               0,
                               65535,
                               "trace: the trace CPU replayed on each pCPU of cpus, in order "
                               "(default: the first ones, 0, 1, ...)"};
  sim::StringListParam exclude{
      *this, "exclude", {"CPU */KVM"}, 64,
      "trace: comm patterns (* for any run of characters) of the threads left out, the VM's own "
      "(QEMU names its vCPU threads \"CPU N/KVM\"); the idle task (pid 0) always is"};
  sim::IntListParam exclude_pids{*this, "exclude_pids", {}, 1, 4194304,
                                 "trace: pids of the threads left out"};
  sim::DurationParam from{*this, "from", 0, 0, kMaxTraceWindow,
                          "trace: start of the replayed window after the recording's first line"};
  sim::DurationParam duration{*this, "duration", 0, 0, kMaxTraceWindow,
                              "trace: length of the replayed window; 0: to the recording's last "
                              "line"};
  sim::EnumParam<TraceMode> mode{
      *this,
      "mode",
      TraceMode::kDemand,
      {{"demand", TraceMode::kDemand}, {"reserve", TraceMode::kReserve}},
      "trace: demand: on each pCPU a host thread per recorded nice (prio - 120, plus this load's "
      "nice) asks for each interval's length of CPU at its start, scheduled like any load (a "
      "vCPU can delay it); reserve: the pCPU is taken for exactly the recorded intervals (the "
      "running vCPU's steal). Real-time threads (prio below 100) and interrupt time are "
      "reservations in both modes"};
  sim::DurationParam offset{*this, "offset", 0, 0, kMaxTraceWindow,
                            "trace: where in the window the replay starts (what comes before it "
                            "follows the window's end); below the window's length"};
  sim::BoolParam repeat{*this, "repeat", false,
                        "trace: replay the window again and again for as long as the run lasts"};
  // script: [[start, end], ...] read by validate() since it is a list of pairs.
  std::vector<std::pair<Tick, Tick>> windows;
  // trace: per pCPU of cpus, what the recording ran there (load() reads it).
  Recording trace;
  std::string trace_path;  // trace: `file` as opened, absolute (the resolved form names it so)
  bool trace_imported = false;  // trace: `file` is vcpusim load import's JSON
  std::string trace_warning;  // trace: what the recording lacked, for Scenario::warnings ("" none)
  void load(const sim::Node& node) override;
  sim::Json to_json() const override;
  sim::Json schema() const override;
};

enum class Vendor { kIntel, kAmd };

struct HostParams : sim::ParamSet {
  HostParams() {
    add_section("scheduler", scheduler, "host scheduler");
    add_section("noise", noise,
                "host housekeeping: interrupts, softirqs, kworkers, the VM's emulator threads "
                "(docs/host-noise.md)");
  }
  sim::EnumParam<Vendor> vendor{
      *this,
      "vendor",
      Vendor::kIntel,
      {{"intel", Vendor::kIntel}, {"amd", Vendor::kAmd}},
      "how pause-loop exiting works: intel (VMX PLE: the CPU exits when PAUSEs at most vm.ple_gap "
      "cycles apart span vm.ple_window cycles, only at CPL 0; handle_pause boosts only vCPUs "
      "preempted in kernel mode) or amd (SVM pause filter: vm.ple_window counts PAUSEs, a gap "
      "above vm.ple_gap resets the count; exits at any CPL; the spinner's CPL decides the "
      "in-kernel filter)"};
  sim::IntParam pcpus{*this, "pcpus", 2, 1, 1024, "physical CPUs"};
  sim::IntParam sockets{*this,
                        "sockets",
                        1,
                        1,
                        64,
                        "sockets; the cores are split evenly among them (cpu/host/topology.hpp): "
                        "must divide the cores, host.pcpus / host.threads_per_core"};
  sim::IntParam threads_per_core{
      *this,
      "threads_per_core",
      1,
      1,
      8,
      "SMT threads per core, sharing the core's caches: pCPUs 0..threads_per_core-1 are core 0, "
      "and so on; must divide host.pcpus"};
  SchedulerParams scheduler;
  NoiseParams noise;
  std::vector<std::unique_ptr<LoadParams>> load;  // "load": array of load generators
  void load_from(const sim::Node& node);
  sim::Json to_json() const override;
  sim::Json schema() const override;
};

// The most vCPUs a VM may have (vm.vcpus).
constexpr std::int64_t kMaxVcpus = 1024;

struct VmParams : sim::ParamSet {
  VmParams() {
    add_section("cpu_max", cpu_max,
                "CPU bandwidth limit of the VM's cgroup, as cgroup v2 cpu.max \"QUOTA PERIOD\"");
  }
  sim::IntParam vcpus{*this, "vcpus", 2, 1, kMaxVcpus, "virtual CPUs"};
  sim::FrequencyParam tsc_frequency{*this,   "tsc_frequency", 2500000000LL,
                                    1000000, 100000000000LL,  "guest TSC frequency"};
  sim::IntParam nice{*this, "nice", 0, -20, 19, "host nice value of the vCPU threads"};
  sim::DurationParam timer_jitter{*this,
                                  "timer_jitter",
                                  0,
                                  0,
                                  sim::kMillisecond,
                                  "extra delay of each timer interrupt delivery (host hrtimer "
                                  "expiry and injection), uniform in [0, value], from the decision "
                                  "source"};
  sim::DurationParam halt_poll_ns{
      *this,
      "halt_poll_ns",
      0,
      0,
      sim::kMillisecond,
      "KVM halt-polling (the halt_poll_ns module parameter): the largest per-vCPU poll window; "
      "after a HLT exit the host keeps the vCPU thread on its pCPU polling for a wake-up for the "
      "vCPU's current window before it sleeps (a wake-up meanwhile skips costs.halt_wakeup); the "
      "window adapts as KVM's does (halt_poll_ns_grow, _grow_start, _shrink); 0 disables"};
  sim::IntParam halt_poll_ns_grow{
      *this,
      "halt_poll_ns_grow",
      2,
      0,
      1 << 16,
      "a halt that ended after the poll window but within vm.halt_poll_ns multiplies the vCPU's "
      "window by this (at least halt_poll_ns_grow_start; 0: never grow)"};
  sim::DurationParam halt_poll_ns_grow_start{
      *this,
      "halt_poll_ns_grow_start",
      10 * sim::kMicrosecond,
      sim::kNanosecond,
      sim::kMillisecond,
      "the window a vCPU's first growth starts from; a shrink below it resets the window to 0"};
  sim::IntParam halt_poll_ns_shrink{
      *this,
      "halt_poll_ns_shrink",
      0,
      0,
      1 << 16,
      "a halt longer than vm.halt_poll_ns divides the vCPU's window by this (0: reset to 0)"};
  sim::BoolParam posted_interrupts{
      *this, "posted_interrupts", true,
      "interrupts to a running vCPU are posted (no exit on the target); off: the target takes a "
      "VM exit + entry (costs.vm_exit, costs.vm_entry) before the handler"};
  sim::BoolParam pv_send_ipi{*this, "pv_send_ipi", false,
                             "paravirt send-IPI: one hypercall exit for a whole destination mask "
                             "instead of one ICR-write exit per destination"};
  sim::BoolParam pv_unhalt{*this, "pv_unhalt", true,
                           "KVM_FEATURE_PV_UNHALT: pv_wait halts and KICK_CPU wakes it (pv "
                           "spinlocks need it)"};
  sim::IntParam ple_gap{*this,
                        "ple_gap",
                        128,
                        0,
                        1 << 20,
                        "pause-loop exiting: PAUSEs at most this many TSC cycles apart form a "
                        "spin loop (KVM's ple_gap, amd's pause_filter_thresh); a loop whose "
                        "costs.pause_iteration is wider never exits; 0 disables pause-loop "
                        "exiting"};
  sim::IntParam ple_window{*this,
                           "ple_window",
                           4096,
                           1,
                           1LL << 40,
                           "how long a spin loop runs before a pause-loop exit: TSC cycles on "
                           "intel (KVM's ple_window), PAUSEs on amd (pause_filter_count; KVM's "
                           "default there is 3000)"};
  sim::IntParam ple_window_grow{*this,
                                "ple_window_grow",
                                2,
                                0,
                                1 << 16,
                                "on each pause-loop exit the window is multiplied by this (0 or 1: "
                                "fixed)"};
  sim::IntParam ple_window_shrink{*this,
                                  "ple_window_shrink",
                                  0,
                                  0,
                                  1 << 16,
                                  "when the vCPU is scheduled in, the window is divided by this "
                                  "(0: back to ple_window)"};
  sim::IntParam ple_window_max{*this,
                               "ple_window_max",
                               1LL << 31,
                               1,
                               1LL << 40,
                               "largest pause-loop window in cycles (at least ple_window)"};
  CpuMaxParams cpu_max;
  // pinning[i]: pCPUs vCPU i may run on; default all.
  std::vector<std::vector<std::int64_t>> pinning;
  void load_from(const sim::Node& node, std::int64_t pcpus);
  // ple_window at most ple_window_max.
  void validate(const sim::Node& node) const override;
  sim::Json to_json() const override;
  sim::Json schema() const override;
};

// Default costs (MECHANISMS.md section 7); every value can be overridden under "costs".
struct CostParams : sim::ParamSet {
  sim::DurationParam load{*this,
                          "load",
                          sim::kNanosecond,
                          kMinOperationCost,
                          sim::kMillisecond,
                          "a load that hits the local cache"};
  sim::DurationParam store{*this,
                           "store",
                           sim::kNanosecond,
                           kMinOperationCost,
                           sim::kMillisecond,
                           "a store that hits the local cache"};
  sim::DurationParam atomic{*this,
                            "atomic",
                            10 * sim::kNanosecond,
                            kMinOperationCost,
                            sim::kMillisecond,
                            "a locked read-modify-write (cmpxchg, xchg, xadd)"};
  sim::DurationParam barrier{*this,
                             "barrier",
                             5 * sim::kNanosecond,
                             kMinOperationCost,
                             sim::kMillisecond,
                             "a full memory barrier"};
  sim::DurationParam rdtsc{*this,
                          "rdtsc",
                          8 * sim::kNanosecond,
                          kMinOperationCost,
                          sim::kMillisecond,
                          "reading the TSC"};
  sim::DurationParam cacheline_same_core{
      *this,
      "cacheline_same_core",
      5 * sim::kNanosecond,
      0,
      sim::kMillisecond,
      "cacheline from the SMT sibling: served by the core's shared L1/L2 (about an L2 hit; an "
      "estimate, MECHANISMS.md gives none)"};
  sim::DurationParam cacheline_same_socket{
      *this,
      "cacheline_same_socket",
      25 * sim::kNanosecond,
      0,
      sim::kMillisecond,
      "cacheline transfer between cores of one socket (MECHANISMS.md: 15-30 ns); also what a write "
      "waits for to invalidate copies there"};
  sim::DurationParam cacheline_cross_socket{
      *this,
      "cacheline_cross_socket",
      150 * sim::kNanosecond,
      0,
      sim::kMillisecond,
      "cacheline transfer between sockets (MECHANISMS.md: 100-200 ns); also what a write waits "
      "for to invalidate copies there"};
  sim::DurationParam vm_exit{
      *this,
      "vm_exit",
      400 * sim::kNanosecond,
      kMinOperationCost,
      sim::kMillisecond,
      "a VM exit (guest -> host: HLT, hypercall, ICR write, pause-loop exit)"};
  sim::DurationParam vm_entry{*this,
                              "vm_entry",
                              400 * sim::kNanosecond,
                              kMinOperationCost,
                              sim::kMillisecond,
                              "a VM entry (host -> guest), paid on every entry: after an exit, "
                              "after a halted vCPU wakes and after a host preemption"};
  sim::DurationParam hypercall{*this,
                               "hypercall",
                               200 * sim::kNanosecond,
                               0,
                               sim::kMillisecond,
                               "host handling of a hypercall (KICK_CPU, SCHED_YIELD) between its "
                               "exit and entry"};
  sim::DurationParam pause_iteration{
      *this,
      "pause_iteration",
      16 * sim::kNanosecond,
      kMinOperationCost,
      sim::kMillisecond,
      "one iteration of a guest spin loop: the spacing of its PAUSEs, which the CPU compares "
      "with vm.ple_gap (a loop spaced wider is never seen as a spin loop) and, on amd, what "
      "each PAUSE of vm.ple_window costs (estimate: ~40 cycles at 2.5 GHz, a PAUSE of ~10 "
      "cycles before Skylake plus the re-read of the lock word)"};
  sim::DurationParam ple_handler{
      *this,
      "ple_handler",
      sim::kMicrosecond,
      0,
      sim::kMillisecond,
      "host handling of a pause-loop exit between its vm_exit and vm_entry: handle_pause, the "
      "window update and kvm_vcpu_on_spin's candidate scan with its yield_to (two run-queue "
      "locks); an estimate, no published measurement"};
  sim::DurationParam host_schedule{
      *this,
      "host_schedule",
      sim::kMicrosecond,
      0,
      sim::kMillisecond,
      "the host schedule() a successful directed yield ends with (kvm_vcpu_on_spin -> yield_to "
      "-> schedule): paid by the yielder before its next entry (estimate: lmbench lat_ctx, "
      "1-2 us between two processes)"};
  sim::DurationParam context_switch{
      *this, "context_switch",  500 * sim::kNanosecond,
      0,     sim::kMillisecond, "a guest context switch between two tasks of one vCPU"};
  sim::DurationParam irq_entry{*this,
                               "irq_entry",
                               200 * sim::kNanosecond,
                               kMinOperationCost,
                               sim::kMillisecond,
                               "guest interrupt entry"};
  sim::DurationParam irq_exit{*this,
                              "irq_exit",
                              100 * sim::kNanosecond,
                              kMinOperationCost,
                              sim::kMillisecond,
                              "guest interrupt return"};
  sim::DurationParam spin_recheck{*this,
                                  "spin_recheck",
                                  5 * sim::kNanosecond,
                                  kMinOperationCost,
                                  sim::kMillisecond,
                                  "a spinner noticing a change (plus the cacheline transfer)"};
  sim::DurationParam ipi_send{*this,
                              "ipi_send",
                              200 * sim::kNanosecond,
                              0,
                              sim::kMillisecond,
                              "host handling of one ICR-write exit (or of the PV send-IPI "
                              "hypercall), between its vm_exit and vm_entry"};
  sim::DurationParam ipi_posted{
      *this,
      "ipi_posted",
      100 * sim::kNanosecond,
      0,
      sim::kMillisecond,
      "posted-interrupt delivery to a running vCPU: descriptor update and "
      "notification until the target sees it"};
  sim::DurationParam halt_wakeup{
      *this,
      "halt_wakeup",
      5 * sim::kMicrosecond,
      0,
      sim::kMillisecond,
      "host wake-up of a halted (sleeping) vCPU thread for an IPI, before its VM entry "
      "(kvm_vcpu_kick + scheduler wake-up); halt-polling avoids it"};
  // Latency ranges: the host takes each such latency within [value, value + jitter], a decision.
  sim::DurationParam halt_wakeup_jitter{
      *this,
      "halt_wakeup_jitter",
      0,
      0,
      sim::kMillisecond,
      "each host wake-up of a sleeping vCPU takes costs.halt_wakeup plus a decision in [0, this] "
      "(uniform in a plain run; explore picks it)"};
  sim::DurationParam ipi_jitter{
      *this,
      "ipi_jitter",
      0,
      0,
      sim::kMillisecond,
      "each IPI or NMI delivery is delayed by a decision in [0, this] more (uniform in a plain "
      "run; explore picks it)"};
  sim::DurationParam hypercall_jitter{
      *this,
      "hypercall_jitter",
      0,
      0,
      sim::kMillisecond,
      "each hypercall's host handling takes costs.hypercall plus a decision in [0, this] "
      "(uniform in a plain run; explore picks it)"};
};

}  // namespace vcpusim::cpu
