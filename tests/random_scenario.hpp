// Random, valid scenarios for property tests (decoupling equivalence): random host sizes,
// pinning, nice values, load kinds, load balancing on or off, pause-loop exiting by vendor,
// gap and window, host noise, CPU bandwidth limits, workloads (lock_torture partly in user mode),
// costs and model variants, from the project's own RNG so a failing index reproduces everywhere.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/core/rng.hpp"

namespace vcpusim::test {

class RandomScenario {
 public:
  explicit RandomScenario(std::uint64_t index) : rng_(0x5eed, index), index_(index) {}

  sim::Json make() {
    sim::Json s;
    s["name"] = "random-" + std::to_string(index_);
    s["seed"] = static_cast<std::int64_t>(rng_.below(1000));
    s["duration"] = us(pick(4000, 25000));
    const int pcpus = pick(1, 3);
    const int vcpus = pick(1, 5);
    s["host"] = host(pcpus);
    s["vm"] = vm(pcpus, vcpus);
    s["costs"] = costs();
    s["guest"] = guest(vcpus);
    s["limits"] = {{"hang_after", us(pick(500, 3000))}, {"nmi_max", us(pick(50, 500))}};
    // Host noise and CPU bandwidth control, drawn last so that everything above is what it was.
    if (rng_.below(3) == 0) s["host"]["noise"] = noise();
    if (rng_.below(4) == 0)
      s["vm"]["cpu_max"] = {{"quota", us(pick(1000, 6000))}, {"period", us(pick(1000, 5000))}};
    // lock_torture's user-mode share of its think time (guest mode in the vCPU state), drawn
    // after everything else for the same reason.
    for (auto& w : s["guest"]["workloads"])
      if (w["kind"] == "lock_torture" && coin()) w["user_percent"] = pick(0, 100);
    return s;
  }

 private:
  int pick(int lo, int hi) { return lo + static_cast<int>(rng_.below(hi - lo + 1)); }
  bool coin() { return rng_.below(2) == 0; }
  template <class T>
  const T& choose(const std::vector<T>& v) {
    return v[rng_.below(v.size())];
  }
  static std::string ns(int v) { return std::to_string(v) + "ns"; }
  static std::string us(int v) { return std::to_string(v) + "us"; }
  std::vector<int> subset(int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i)
      if (coin()) out.push_back(i);
    if (out.empty()) out.push_back(pick(0, n - 1));
    return out;
  }

  sim::Json host(int pcpus) {
    const int threads = pcpus % 2 == 0 && coin() ? 2 : 1;
    const int cores = pcpus / threads;
    sim::Json h = {{"pcpus", pcpus}, {"threads_per_core", threads}};
    const int sockets = pick(1, cores > 1 ? 2 : 1);
    h["sockets"] = cores % sockets == 0 ? sockets : 1;  // the sockets split the cores evenly
    h["scheduler"] = {{"policy", coin() ? "fair" : "rr"},
                      {"rr_quantum", us(pick(300, 3000))},
                      {"balance", coin()},
                      {"migration_cost", us(choose<int>({0, 50, 500, 2000}))}};
    h["vendor"] = coin() ? "intel" : "amd";
    if (coin())
      h["scheduler"]["fair"] = {{"sched_latency", us(pick(1000, 8000))},
                                {"min_granularity", us(pick(100, 900))},
                                {"wakeup_granularity", us(pick(0, 1500))}};
    h["load"] = sim::Json::array();
    for (int i = pick(0, 3); i > 0; --i) {
      sim::Json l = {{"cpus", subset(pcpus)}, {"nice", choose<int>({-20, -5, 0, 0, 3, 10, 19})}};
      switch (rng_.below(3)) {
        case 0:
          l["kind"] = "duty";
          l["busy"] = us(pick(20, 2000));
          l["idle"] = us(pick(0, 2000));
          l["phase"] = us(pick(0, 1500));
          break;
        case 1:
          l["kind"] = "poisson";
          l["busy"] = us(pick(10, 1000));
          l["idle"] = us(pick(20, 2000));
          break;
        default: {
          l["kind"] = "script";
          sim::Json w = sim::Json::array();
          int t = pick(0, 500);
          for (int k = pick(1, 3); k > 0; --k) {
            const int end = t + pick(10, 1500);
            w.push_back({us(t), us(end)});
            t = end + pick(1, 1000);
          }
          l["windows"] = w;
        }
      }
      h["load"].push_back(l);
    }
    return h;
  }

  sim::Json noise_source(const std::vector<std::string>& rates) {
    sim::Json n = {{"rate", choose(rates)},
                   {"arrival", coin() ? "periodic" : "poisson"},
                   {"duration", ns(pick(1, 30) * 500)}};
    switch (rng_.below(3)) {
      case 0:
        n["distribution"] = "fixed";
        break;
      case 1:
        n["distribution"] = "uniform";
        n["duration_max"] = ns(pick(30, 60) * 500);
        break;
      default:
        n["distribution"] = "exponential";
    }
    return n;
  }

  sim::Json noise() {
    return {{"enabled", true},
            {"emulator_threads", pick(0, 2)},
            {"irq", noise_source({"0Hz", "1kHz", "4kHz"})},
            {"softirq", noise_source({"0Hz", "25Hz", "2kHz"})},
            {"kworker", noise_source({"0Hz", "10Hz", "1kHz"})},
            {"emulator", noise_source({"0Hz", "500Hz", "3kHz"})}};
  }

  sim::Json vm(int pcpus, int vcpus) {
    sim::Json v = {{"vcpus", vcpus},
                   {"nice", choose<int>({0, 0, -5, 3, 7})},
                   {"tsc_frequency", choose<std::string>({"1GHz", "2.5GHz", "3.1GHz"})},
                   {"timer_jitter", ns(pick(0, 3) * 400)},
                   {"halt_poll_ns", us(choose<int>({0, 0, 20, 200}))},
                   {"halt_poll_ns_grow", choose<int>({0, 2, 2, 4})},
                   {"halt_poll_ns_grow_start", us(choose<int>({1, 10, 50}))},
                   {"halt_poll_ns_shrink", choose<int>({0, 0, 2})},
                   {"posted_interrupts", !coin() || coin()},
                   {"pv_send_ipi", coin()},
                   {"ple_gap", choose<int>({0, 16, 128, 128})},
                   {"ple_window", choose<int>({64, 512, 4096})}};
    v["pinning"] = sim::Json::array();
    for (int i = 0; i < vcpus; ++i) v["pinning"].push_back(subset(pcpus));
    return v;
  }

  sim::Json costs() {
    sim::Json c = sim::Json::object();
    if (coin()) c["halt_wakeup"] = ns(choose<int>({0, 0, 1000, 8000}));
    if (coin()) c["vm_entry"] = ns(pick(100, 3000));
    if (coin()) c["cacheline_same_socket"] = ns(pick(0, 80));
    if (coin()) c["cacheline_same_core"] = ns(pick(0, 10));
    if (coin()) c["cacheline_cross_socket"] = ns(pick(0, 300));
    if (coin()) c["ipi_send"] = ns(pick(0, 2000));
    if (coin()) c["atomic"] = ns(pick(1, 40));
    if (coin()) c["pause_iteration"] = ns(pick(1, 60));
    if (coin()) c["ple_handler"] = ns(pick(0, 3000));
    if (coin()) c["host_schedule"] = ns(pick(0, 3000));
    return c;
  }

  sim::Json workload(int v, int vcpus) {
    sim::Json w = {{"vcpus", {v}}};
    switch (rng_.below(7)) {
      case 0:
        w["kind"] = "idle";
        break;
      case 1:
        w["kind"] = "busy";
        w["chunk"] = ns(pick(50, 3000));
        break;
      case 2:
        w["kind"] = "vdso_reader";
        w["think"] = ns(pick(0, 2000));
        break;
      case 3:
        w["kind"] = "ktime_reader";
        w["think"] = ns(pick(0, 2000));
        break;
      case 4:
        w["kind"] = "ipi_storm";
        w["targets"] = subset(vcpus);
        w["irqs"] = rng_.below(4) == 0 ? "off" : "on";
        w["wait"] = coin();
        w["mode"] = coin() ? "single" : "many";
        w["interval"] = ns(pick(0, 40000));
        w["count"] = pick(0, 60);
        w["work"] = ns(pick(0, 20000));
        w["chunk"] = ns(pick(100, 2000));
        break;
      case 6:  // spins long enough for pause-loop exits and directed yields
        w["kind"] = "lock_torture";
        w["hold"] = ns(pick(100, 5000));
        w["think"] = ns(pick(100, 5000));
        break;
      default:
        w["kind"] = "nmi_time_reader";
        w["period"] = us(pick(100, 1500));
    }
    return w;
  }

  sim::Json guest(int vcpus) {
    sim::Json g;
    g["timekeeping"] = {
        {"variant", choose<std::string>({"legacy", "split-publish", "shadow", "reanchor"})},
        {"cpu", pick(0, vcpus - 1)},
        {"hz", choose<int>({100, 250, 1000})},
        {"nmi_variant",
         choose<std::string>({"naive", "owner-shadow", "owner-shadow-no-barrier", "latch"})},
        {"ntp",
         {{"direction", choose<std::string>({"none", "down", "up", "alternating"})},
          {"mult_steps", pick(1, 3355)}}}};
    g["smp_call"] = {{"variant", choose<std::string>({"irqs-off-allowed", "assert-irqs-enabled",
                                                      "poll-own-queue", "global-lock"})}};
    g["locks"] = {{"kind", choose<std::string>({"ticket", "pvticket", "qspinlock", "pvqspinlock",
                                                 "tas", "mcs"})},
                  {"count", pick(1, 2)}};
    g["workloads"] = sim::Json::array();
    for (int v = 0; v < vcpus; ++v) g["workloads"].push_back(workload(v, vcpus));
    return g;
  }

  sim::Rng rng_;
  std::uint64_t index_;
};

}  // namespace vcpusim::test
