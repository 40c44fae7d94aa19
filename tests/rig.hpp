// A small machine for unit tests: set parameters, add load, give each vCPU a body, run.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "cpu/machine.hpp"
#include "sim/core/decision.hpp"
#include "sim/core/kernel.hpp"

namespace vcpusim::test {

struct Rig {
  Rig(int pcpus, int vcpus, cpu::SchedulerKind policy = cpu::SchedulerKind::kFair) {
    host.pcpus.value = pcpus;
    host.scheduler.policy.value = policy;
    vm.vcpus.value = vcpus;
    for (int v = 0; v < vcpus; ++v) vm.pinning.push_back({v % pcpus});
  }
  cpu::LoadParams& add_load(cpu::LoadKind kind, std::vector<std::int64_t> cpus) {
    host.load.push_back(std::make_unique<cpu::LoadParams>());
    host.load.back()->kind.value = kind;
    host.load.back()->cpus.value = std::move(cpus);
    return *host.load.back();
  }
  cpu::Machine& build() {
    machine = std::make_unique<cpu::Machine>(kernel, decisions, host, vm, costs);
    for (int v = 0; v < vm.vcpus.value; ++v)
      machine->vcpu(v).set_main([](cpu::GuestCpu& c) {
        for (;;) c.halt();
      });
    return *machine;
  }
  void body(int vcpu, std::function<void(cpu::GuestCpu&)> f) {
    machine->vcpu(vcpu).set_main(std::move(f));
  }
  void run(sim::Tick end) { machine->run(end); }

  sim::Kernel kernel;
  sim::RandomDecisionSource decisions{1, kernel.components()};
  cpu::HostParams host;
  cpu::VmParams vm;
  cpu::CostParams costs;
  std::unique_ptr<cpu::Machine> machine;
};

inline double frac(sim::Tick part, sim::Tick whole) {
  return static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace vcpusim::test
