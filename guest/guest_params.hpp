// Scenario section "guest": the kernel models and the workload on each vCPU.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cpu/params.hpp"
#include "guest/locks/lock_params.hpp"
#include "guest/rcu_params.hpp"
#include "guest/smp_call_params.hpp"
#include "guest/timekeeping_params.hpp"
#include "guest/workload_registry.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::guest {

enum class HoldDist { kFixed, kExponential };
enum class IrqState { kOn, kOff };
enum class CallMode { kSingle, kMany };
enum class NotifierRole { kInvalidate, kChurn };

// The vCPUs a workload runs on (guest.workloads[].vcpus), in the order written, a vCPU listed twice
// running two tasks: "all" (every vCPU of the VM), a range "A-B" (A to B inclusive, A <= B), or a
// non-empty list of vCPU numbers and ranges ([0, "2-3"]). Every vCPU must be one of the VM's.
// The resolved scenario echoes the list of numbers.
class VcpuSetParam final : public sim::ParamBase {
 public:
  VcpuSetParam(sim::ParamSet& o, const char* name, std::int64_t vm_vcpus, const char* doc)
      : ParamBase(o, name, doc), vm_vcpus_(vm_vcpus) {}
  void load(const sim::Node& n) override;
  sim::Json to_json() const override { return value; }
  sim::Json schema() const override;
  std::vector<std::int64_t> value;
  // Per vCPU of `value`, the index of the list item that named it (0 for "all" or one range).
  std::vector<std::size_t> item;

 private:
  // Appends the vCPUs of one number or range `node`, the list's item `index`.
  void add_item(const sim::Node& node, std::size_t index);
  std::int64_t vm_vcpus_;
};

// One entry of guest.workloads: a kind of the workload registry and the keys that kind takes
// (each member below serves the kinds whose WorkloadKind::keys name it).
struct WorkloadParams : sim::ParamSet {
  // `vm_vcpus`: vm.vcpus, the VM the workload runs in (what "all" and the ranges resolve in).
  explicit WorkloadParams(const WorkloadRegistry& kinds, std::int64_t vm_vcpus = cpu::kMaxVcpus);

 private:
  const WorkloadRegistry& kinds_;
  std::string kind_doc_;  // "name: doc; ..." of every kind (before `kind`, which points into it)

 public:
  sim::ChoiceParam kind;
  VcpuSetParam vcpus;
  sim::DurationParam think{*this,
                           "think",
                           100 * sim::kNanosecond,
                           0,
                           sim::kSecond,
                           "readers: computation between two reads; lock_torture: between two "
                           "acquisitions (mean, drawn as `hold_dist` says)"};
  sim::IntParam user_percent{
      *this,
      "user_percent",
      0,
      0,
      100,
      "lock_torture: percent of each `think` computed in guest user mode (CPL 3), after the rest "
      "of it in kernel mode; the lock and its critical section run in kernel mode. A vCPU the "
      "host preempts in user mode is no directed-yield candidate of a kernel-mode spinner "
      "(kvm_vcpu_on_spin), and Intel PLE does not fire there"};
  sim::IntListParam locks{*this,
                          "locks",
                          {},
                          0,
                          4095,
                          "lock_torture: indices of the locks it takes, one drawn uniformly per "
                          "acquisition (empty: all of guest.locks)"};
  sim::DurationParam hold{*this, "hold",       sim::kMicrosecond,
                          0,     sim::kSecond, "lock_torture: critical section length (mean)"};
  sim::EnumParam<HoldDist> hold_dist{
      *this,
      "hold_dist",
      HoldDist::kExponential,
      {{"fixed", HoldDist::kFixed}, {"exponential", HoldDist::kExponential}},
      "lock_torture: distribution of `hold` and `think` around their means"};
  sim::DurationParam long_hold{*this,
                               "long_hold",
                               0,
                               0,
                               sim::kSecond,
                               "lock_torture: an occasional long critical section (locktorture's "
                               "long delay; 0: none)"};
  sim::IntParam long_hold_every{*this,
                                "long_hold_every",
                                1000,
                                1,
                                1000000000,
                                "lock_torture: one acquisition in this many (on average) holds "
                                "`long_hold`"};
  sim::DurationParam chunk{*this,
                           "chunk",
                           100 * sim::kNanosecond,
                           sim::kNanosecond,
                           sim::kMillisecond,
                           "busy, ipi_storm, RCU workloads: length of one computation step "
                           "(interrupts are taken between steps)"};
  sim::IntListParam targets{*this,
                            "targets",
                            {},
                            0,
                            1023,
                            "ipi_storm: vCPUs the calls go to (a caller skips itself); single "
                            "calls go round-robin over them, many calls to all at once"};
  sim::EnumParam<IrqState> irqs{
      *this,
      "irqs",
      IrqState::kOn,
      {{"on", IrqState::kOn}, {"off", IrqState::kOff}},
      "ipi_storm: irqs while calling and waiting (off: local_irq_save around it); "
      "rcu_updater: off waits for its callback spinning with irqs off; lock_torture: irqs "
      "while waiting for and holding a lock (off: spin_lock_irqsave)"};
  sim::BoolParam wait{*this, "wait", true,
                      "ipi_storm: wait until the function ran (synchronous call)"};
  sim::EnumParam<CallMode> mode{*this,
                                "mode",
                                CallMode::kSingle,
                                {{"single", CallMode::kSingle}, {"many", CallMode::kMany}},
                                "ipi_storm: smp_call_function_single to one target per call, or "
                                "smp_call_function_many to all targets"};
  sim::DurationParam interval{
      *this, "interval",   10 * sim::kMicrosecond,
      0,     sim::kSecond, "ipi_storm, RCU workloads: computation between two calls, in `chunk` steps"};
  sim::IntParam count{*this,     "count", 0, 0, 100000000,
                      "ipi_storm, RCU workloads, lock_torture: calls (read sections, grace periods, "
                      "rounds, acquisitions) per "
                      "task, then it idles (0: no limit)"};
  sim::DurationParam start{*this, "start", 0, 0, sim::kSecond,
                           "ipi_storm: computation before the first call, in `chunk` steps"};
  sim::DurationParam work{*this,
                          "work",
                          100 * sim::kNanosecond,
                          0,
                          sim::kMillisecond,
                          "ipi_storm: computation of the called function"};
  sim::DurationParam period{
      *this, "period",     0,
      0,     sim::kSecond, "nmi_time_reader: time between two NMIs (0: only the `at` times)"};
  sim::DurationParam section{*this, "section", sim::kMicrosecond, 0, sim::kSecond,
                             "rcu_reader, srcu_reader: computation inside one read section"};
  sim::DurationParam sleep{*this, "sleep", 0, 0, sim::kSecond,
                           "srcu_reader: sleep inside each read section (schedule_timeout)"};
  sim::IntParam domain{*this, "domain", 0, 0, 7,
                       "srcu_reader, srcu_updater: the SRCU domain (srcu_struct) used"};
  sim::EnumParam<NotifierRole> role{
      *this,
      "role",
      NotifierRole::kInvalidate,
      {{"invalidate", NotifierRole::kInvalidate}, {"churn", NotifierRole::kChurn}},
      "mmu_notifier_torture: run invalidate walks, or register / unregister / free notifiers"};
  // nmi_time_reader: scripted NMI times, read by load() since it is a list of durations.
  std::vector<sim::Tick> at;
  // The values of the kind's own parameters (WorkloadKind::params, in order; durations in ns).
  std::vector<std::int64_t> own;
  void load(const sim::Node& node) override;
  sim::Json to_json() const override;
  sim::Json schema() const override;
  // The declaration of this workload's kind.
  const WorkloadKind& spec() const { return kinds_.at(kind.value); }

 private:
  // The member named `key`; SimError (a kind declaring a key workloads lack) when none is.
  const sim::ParamBase& member(const std::string& key) const;
  std::vector<sim::ParamBase*> keyed_;  // every member but kind and vcpus, in load() order
};

// Scenario section "guest.sched": the guest's scheduler and idle loop.
struct SchedParams : sim::ParamSet {
  sim::DurationParam haltpoll{
      *this,
      "haltpoll",
      0,
      0,
      sim::kMillisecond,
      "guest haltpoll (cpuidle-haltpoll): an idle vCPU polls its run queue this long before HLT; "
      "a task woken on it meanwhile needs no reschedule IPI"};
};

// Each vCPU listed by a workload is a guest task: a coroutine with its own stack. Bounded so a
// long `vcpus` list (or many workloads) cannot cost memory without end; a kernel runs many more
// threads, but a scenario needs a few per vCPU to show any effect here.
constexpr std::int64_t kMaxTasksPerVcpu = 64;

struct GuestParams : sim::ParamSet {
  // `kinds`: the workload kinds guest.workloads may name; `locks`: the lock algorithms
  // guest.locks.kind may name; both outlive the parameters.
  GuestParams(const WorkloadRegistry& kinds, const LockRegistry& lock_kinds)
      : locks(lock_kinds), kinds_(kinds) {
    add_section("timekeeping", timekeeping, "timekeeping and vDSO model");
    add_section("smp_call", smp_call, "cross-CPU function calls (ipi_storm workloads)");
    add_section("sched", sched, "guest tasks: scheduler and idle loop");
    add_section("rcu", rcu, "RCU and SRCU (rcu_* and srcu_* workloads, mmu notifiers)");
    add_section("mmu_notifier", mmu_notifier, "mmu notifiers (mmu_notifier_torture workloads)");
    add_section("locks", locks, "spinlocks taken by lock_torture workloads");
  }
  SchedParams sched;
  LockParams locks;
  RcuParams rcu;
  MmuNotifierParams mmu_notifier;
  TimekeepingParams timekeeping;
  SmpCallParams smp_call;
  std::vector<std::unique_ptr<WorkloadParams>> workloads;
  void load_from(const sim::Node& node, std::int64_t vcpus);
  sim::Json to_json() const override;
  sim::Json schema() const override;
  const WorkloadRegistry& kinds() const { return kinds_; }

 private:
  const WorkloadRegistry& kinds_;
};

}  // namespace vcpusim::guest
