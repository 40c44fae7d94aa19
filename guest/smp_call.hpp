// Cross-CPU function calls (kernel/smp.c): csd locking, a per-CPU call_single_queue (an llist),
// the IPI sent only when the target's queue was empty, synchronous calls (the target runs the
// function, then unlocks the csd the caller spins on) and asynchronous ones (unlock, then run),
// and the seed 002 variants for callers that wait with irqs off (smp_call_params.hpp).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/smp_call_params.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

struct SmpCallMetrics : sim::MetricGroup {
  SmpCallMetrics() : MetricGroup("smp_call") {}
  sim::Counter ipis_sent{*this, "smp_call.ipis_sent", "call-function IPIs sent"};
  sim::Counter ipis_skipped{*this, "smp_call.ipis_skipped_queue_busy",
                            "IPIs not sent because the target's call queue was not empty"};
  sim::Counter polled_flushes{*this, "smp_call.polled_flushes",
                              "queue flushes a waiting caller ran itself (poll-own-queue)"};
};

class SmpCall {
 public:
  static constexpr const char* kMisuse = "api_misuse";
  using Func = std::function<void(cpu::GuestCpu&)>;

  // Installs the call-function IPI handler on every vCPU. `report_misuse`: api_misuse enabled.
  SmpCall(cpu::Machine& machine, const SmpCallParams& params, bool report_misuse);

  // smp_call_function_single(). Returns false when the variant refused the call.
  bool call_single(cpu::GuestCpu& cpu, int target, Func func, bool wait);
  // smp_call_function_many(): every CPU in `targets` except the caller.
  bool call_many(cpu::GuestCpu& cpu, const std::vector<int>& targets, Func func, bool wait);
  // The IPI handler: runs everything queued for this CPU (flush_smp_call_function_queue).
  void flush_queue(cpu::GuestCpu& cpu);

  std::uint64_t ipis_sent() const { return metrics_.ipis_sent.value(); }
  std::uint64_t ipis_skipped() const { return metrics_.ipis_skipped.value(); }
  std::uint64_t refused() const { return refused_; }
  std::uint64_t polled_flushes() const { return metrics_.polled_flushes.value(); }
  void collect_metrics(sim::Metrics& out) const { metrics_.collect(out); }

 private:
  using Variant = SmpCallVariant;
  struct Csd {
    cpu::Word* flags = nullptr;  // kLock | kSync
    Func func;
    int owner = -1;
    int target = -1;
  };
  struct CallQueue {
    cpu::Word* head = nullptr;  // entries queued; non-zero = non-empty
    std::deque<Csd*> list;      // what the llist holds, in the order it runs
  };
  Csd* new_csd(const std::string& name, int owner);
  bool allowed(cpu::GuestCpu& cpu, const char* api);
  void csd_lock(cpu::GuestCpu& cpu, Csd& csd, bool sync);
  void csd_unlock(cpu::GuestCpu& cpu, Csd& csd);
  void csd_lock_wait(cpu::GuestCpu& cpu, Csd& csd);
  bool enqueue(cpu::GuestCpu& cpu, int target, Csd& csd);
  void lock_calls(cpu::GuestCpu& cpu);
  void unlock_calls(cpu::GuestCpu& cpu);

  cpu::Machine& machine_;
  Variant variant_;
  bool report_misuse_;
  std::vector<CallQueue> queues_;
  std::vector<std::unique_ptr<Csd>> csds_;
  std::vector<Csd*> stack_csd_;  // per caller: the on-stack csd of a waiting single call
  std::vector<Csd*> async_csd_;  // per caller: csd_data of a non-waiting single call
  std::vector<Csd*> cfd_csd_;    // [caller * n + target]: call_function_data of many
  cpu::Word* call_lock_ = nullptr;
  SmpCallMetrics metrics_;
  std::uint64_t refused_ = 0;
};

}  // namespace vcpusim::guest
