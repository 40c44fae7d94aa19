#include "guest/workload_kinds.hpp"

#include "guest/guest_os.hpp"
#include "guest/mmu_notifier_torture.hpp"
#include "guest/rcu_workloads.hpp"

namespace vcpusim::guest {
namespace {

WorkloadKind declare_kind(const char* name, const char* doc, std::vector<std::string> keys) {
  WorkloadKind k;
  k.name = name;
  k.doc = doc;
  k.keys = std::move(keys);
  return k;
}

WorkloadKind idle_kind() {
  WorkloadKind k = declare_kind("idle", "halt until an interrupt, forever", {});
  k.spawn = [](GuestOs&, const WorkloadParams&, int) {};  // the idle task halts
  return k;
}

WorkloadKind busy_kind() {
  WorkloadKind k = declare_kind("busy", "compute in chunks", {"chunk"});
  k.spawn = [](GuestOs& os, const WorkloadParams& p, int v) {
    // Its own code only computes (cond_resched's read aside): where declared, it runs ahead.
    os.spawn(
        p, v,
        [&os, &p](cpu::GuestCpu& cpu) {
          for (;;) {
            cpu.compute(p.chunk.value);
            os.scheduler().cond_resched(cpu);
          }
        },
        cpu::Footprint{"busy", {}, {}});
  };
  return k;
}

WorkloadKind clock_reader(const char* name, const char* doc, ReadClock clock) {
  WorkloadKind k = declare_kind(name, doc, {"think"});
  k.spawn = [clock](GuestOs& os, const WorkloadParams& p, int v) { os.spawn_reader(p, v, clock); };
  return k;
}

WorkloadKind ipi_storm_kind() {
  WorkloadKind k = declare_kind(
      "ipi_storm", "cross-CPU calls to `targets` at a rate",
      {"targets", "irqs", "wait", "mode", "interval", "count", "work", "chunk", "start"});
  k.echoed_when_set = {"start"};
  k.validate = [](const WorkloadParams& p, const sim::Node& node) {
    if (p.targets.value.empty())
      node.fail(node.has("targets") ? "\"targets\" is empty" : "missing key \"targets\"",
                "a non-empty list of vCPU numbers");
    if (p.count.value == 0 && p.interval.value == 0 && p.work.value == 0)
      node.fail("an endless storm of calls that take no time (count, interval and work are 0)",
                "a \"count\" > 0, or an \"interval\" or \"work\" > 0");
  };
  k.spawn = [](GuestOs& os, const WorkloadParams& p, int v) {
    IpiStorm& storm = os.add_ipi_storm(p);
    os.spawn(p, v, [&storm](cpu::GuestCpu& cpu) { storm.run(cpu); });
  };
  return k;
}

WorkloadKind nmi_time_reader_kind() {
  WorkloadKind k = declare_kind(
      "nmi_time_reader",
      "idle, with NMIs (every `period` and at the `at` times) whose handler reads time",
      {"period", "at"});
  k.validate = [](const WorkloadParams& p, const sim::Node& node) {
    // perf's default maximum sample rate is 100 kHz (kernel/events/core.c), so NMIs come at
    // most every 10 us.
    if (p.period.value != 0 && p.period.value < 10 * sim::kMicrosecond)
      node.at("period").fail(sim::quote(sim::format_duration(p.period.value)) + " is too short",
                             "0 (only the `at` times) or at least 10us");
    if (p.period.value == 0 && p.at.empty())
      node.fail("no NMI source", "a \"period\" > 0 and/or a non-empty \"at\" list");
  };
  k.spawn = [](GuestOs& os, const WorkloadParams& p, int v) {
    os.install_nmi_reader(v, p);  // no task: the reads run in the NMI handler
  };
  return k;
}

// The RCU model keeps the CPUs a grace period waits for in one 64-bit rcu_node mask.
void fits_rcu_model(const WorkloadParams& p, const sim::Node& node, std::int64_t vcpus) {
  if (vcpus > 64)
    node.at("kind").fail(sim::quote(p.kind.value) + " needs the RCU model, which " +
                             "supports up to 64 vCPUs (vm.vcpus is " + std::to_string(vcpus) + ")",
                         "a VM of at most 64 vCPUs for RCU workloads");
}

// An RCU, SRCU or mmu-notifier workload: `body` runs as its task, on the guest's RCU side.
using RcuBody =
    std::function<std::function<void(cpu::GuestCpu&)>(GuestOs&, RcuSystem&, const WorkloadParams&)>;
WorkloadKind rcu_kind(const char* name, const char* doc, std::vector<std::string> keys,
                      RcuBody body) {
  WorkloadKind k = declare_kind(name, doc, std::move(keys));
  k.fits_vm = fits_rcu_model;
  k.spawn = [body](GuestOs& os, const WorkloadParams& p, int v) {
    os.spawn(p, v, body(os, os.rcu_system(), p));
  };
  return k;
}

WorkloadKind lock_torture_kind() {
  WorkloadKind k = declare_kind(
      "lock_torture",
      "take the `locks` (guest.locks) in a loop, holding each for `hold` "
      "and thinking `think` between, `user_percent` of it in user mode "
      "(kernel/locking/locktorture.c)",
      {"locks", "hold", "hold_dist", "think", "irqs", "count", "long_hold", "long_hold_every",
       "user_percent"});
  k.echoed_when_set = {"user_percent"};
  k.spawn = [](GuestOs& os, const WorkloadParams& p, int v) {
    LockTorture& torture = os.lock_torture();
    os.spawn(p, v, [&torture, &p](cpu::GuestCpu& cpu) { torture.run(cpu, p); });
  };
  return k;
}

}  // namespace

void add_builtin_workloads(WorkloadRegistry& kinds) {
  kinds.add(idle_kind());
  kinds.add(busy_kind());
  kinds.add(
      clock_reader("vdso_reader", "clock_gettime through the vDSO in a loop", ReadClock::kVdso));
  kinds.add(clock_reader("ktime_reader", "kernel ktime_get through tk_core's seqcount in a loop",
                         ReadClock::kKtime));
  kinds.add(ipi_storm_kind());
  kinds.add(nmi_time_reader_kind());
  kinds.add(rcu_kind(
      "rcu_reader", "RCU read sections of `section`, `interval` and cond_resched between them",
      {"section", "interval", "chunk", "count"},
      [](GuestOs& os, RcuSystem& rcu, const WorkloadParams& p) {
        return
            [&os, &rcu, &p](cpu::GuestCpu& cpu) { rcu_reader(cpu, os.scheduler(), rcu.rcu(), p); };
      }));
  kinds.add(rcu_kind("rcu_updater",
                     "synchronize_rcu every `interval` (irqs \"off\": call_rcu, then spin with "
                     "irqs off until the callback ran)",
                     {"interval", "chunk", "count", "irqs"},
                     [](GuestOs& os, RcuSystem& rcu, const WorkloadParams& p) {
                       return [&os, &rcu, &p](cpu::GuestCpu& cpu) {
                         rcu_updater(cpu, os.scheduler(), rcu.rcu(), p);
                       };
                     }));
  kinds.add(rcu_kind("srcu_reader",
                     "SRCU read sections in `domain` that compute `section` and sleep `sleep`",
                     {"domain", "section", "sleep", "interval", "chunk", "count"},
                     [](GuestOs& os, RcuSystem& rcu, const WorkloadParams& p) {
                       return [&os, &s = rcu.srcu(static_cast<int>(p.domain.value)),
                               &p](cpu::GuestCpu& cpu) { srcu_reader(cpu, os.scheduler(), s, p); };
                     }));
  kinds.add(rcu_kind("srcu_updater", "synchronize_srcu on `domain` every `interval`",
                     {"domain", "interval", "chunk", "count"},
                     [](GuestOs& os, RcuSystem& rcu, const WorkloadParams& p) {
                       return [&os, &s = rcu.srcu(static_cast<int>(p.domain.value)),
                               &p](cpu::GuestCpu& cpu) { srcu_updater(cpu, os.scheduler(), s, p); };
                     }));
  kinds.add(rcu_kind("mmu_notifier_torture",
                     "invalidate walks (role \"invalidate\") or register / unregister / free of "
                     "a notifier (role \"churn\") every `interval`",
                     {"role", "interval", "chunk", "count"},
                     [](GuestOs& os, RcuSystem& rcu, const WorkloadParams& p) {
                       return [&os, &list = rcu.mmu_notifiers(), &p](cpu::GuestCpu& cpu) {
                         mmu_notifier_torture(cpu, os.scheduler(), list, p);
                       };
                     }));
  kinds.add(lock_torture_kind());
}

}  // namespace vcpusim::guest
