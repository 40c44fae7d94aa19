// Interrupt delivery between vCPUs: the local APICs' IPIs and NMIs, with what they cost in a VM
// (arch/x86/kvm/lapic.c, arch/x86/kvm/vmx/posted_intr.c, virt/kvm/kvm_main.c halt-polling,
// arch/x86/kernel/kvm.c PV send-IPI; MECHANISMS.md section 6). The sender pays a VM exit, the
// host's handling (costs.ipi_send, during which the targets are interrupted) and an entry per ICR
// write, or one such round trip for a whole mask with PV send-IPI. Then each target, by its
// state at the send: running gets a posted interrupt; halted is woken through the host (unless
// the host is still halt-polling it); preempted finds it pending when it runs again. The periodic
// timer is the same local APIC's timer (Vcpu::start_periodic_timer).
#pragma once
#include <cstdint>
#include <vector>

#include "cpu/vm/vcpu.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::cpu {

class Machine;

const char* target_state_name(TargetState s);

// What the APICs count, emitted once any IPI was sent. The {...} words are target_state_name's.
struct ApicMetrics : sim::MetricGroup {
  ApicMetrics() : MetricGroup("apic") {}
  sim::Counter sent{*this, "ipi.sent", "IPIs delivered (one per target)"};
  sim::Counter sender_exits{*this, "ipi.sender_exits",
                            "VM exits of senders (one per ICR write, one per PV send-IPI mask)"};
  sim::Metric to_state{*this, "ipi.to_{running,halted,preempted}", "count",
                       "IPIs delivered to a target in that state at the send"};
  sim::Metric latency_ns{*this, "ipi.latency_ns.{running,halted,preempted}", "ns",
                         "from the send to the handler's start, by the target's state at the send",
                         sim::MetricShape::kSummary};
  sim::Distribution nmi_latency_ns{*this, "ipi.nmi_latency_ns", "ns",
                                   "from an NMI's send to its handler's start"};
};

class Apic {
 public:
  explicit Apic(Machine& machine) : machine_(machine) {}

  // Coroutine side, on the sender: pays the exits, then delivers `v` to each target in order.
  void send(Vcpu& from, const std::vector<int>& targets, Vector v);
  // Called by a vCPU when the handler of an interrupt this APIC delivered starts.
  void handler_started(Vector v, TargetState at_send, Tick sent);

  std::uint64_t sent() const { return metrics_.sent.value(); }
  const ApicMetrics& metrics() const { return metrics_; }
  // ipi.* metrics, when any IPI was sent.
  void collect_metrics(sim::Metrics& out) const;

 private:
  void deliver(Vcpu& from, Vcpu& to, Vector v);

  Machine& machine_;
  ApicMetrics metrics_;
  std::uint64_t by_state_[kTargetStates] = {0, 0, 0};
  sim::Samples latency_ns_[kTargetStates];
};

}  // namespace vcpusim::cpu
