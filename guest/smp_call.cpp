#include "guest/smp_call.hpp"

#include <string>

namespace vcpusim::guest {
namespace {
constexpr std::uint64_t kLock = 1;  // CSD_FLAG_LOCK
constexpr std::uint64_t kSync = 2;  // CSD_TYPE_SYNC
std::string vcpu(int c) {
  return "vCPU" + std::to_string(c);
}
}  // namespace

SmpCall::SmpCall(cpu::Machine& machine, const SmpCallParams& params, bool report_misuse)
    : machine_(machine), report_misuse_(report_misuse) {
  machine.declare_metrics(metrics_);
  variant_ = params.variant.value;
  const int n = machine.vcpu_count();
  cpu::Memory& mem = machine.memory();
  for (int c = 0; c < n; ++c) {
    CallQueue q;
    q.head = &mem.word("call_single_queue." + vcpu(c));
    queues_.push_back(q);
    stack_csd_.push_back(new_csd("csd_stack." + vcpu(c), c));
    async_csd_.push_back(new_csd("csd_data." + vcpu(c), c));
  }
  for (int c = 0; c < n; ++c)
    for (int t = 0; t < n; ++t)
      cfd_csd_.push_back(new_csd("cfd." + vcpu(c) + ".csd." + vcpu(t), c));
  if (variant_ == Variant::kGlobalLock) call_lock_ = &mem.word("call_function_lock");
  for (int c = 0; c < n; ++c)
    machine.vcpu(c).set_handler(cpu::Vector::kIpi, [this](cpu::GuestCpu& g) { flush_queue(g); });
}

SmpCall::Csd* SmpCall::new_csd(const std::string& name, int owner) {
  csds_.push_back(std::make_unique<Csd>());
  Csd* c = csds_.back().get();
  c->flags = &machine_.memory().word(name + ".flags");
  c->owner = owner;
  return c;
}

// Mainline warns when a call is made with irqs off (it may deadlock); this variant reports it
// and does not make the call, so the caller never waits with irqs off.
bool SmpCall::allowed(cpu::GuestCpu& cpu, const char* api) {
  if (variant_ != Variant::kAssert || !cpu.irqs_disabled()) return true;
  ++refused_;
  if (report_misuse_) {
    sim::Violation v;
    v.check = kMisuse;
    v.time = cpu.now();
    v.cpus = {cpu.id()};
    v.message = vcpu(cpu.id()) + " called " + api +
                " with irqs disabled: waiting for the call could deadlock (refused)";
    v.details = {{"api", api}};
    cpu.violations().report(std::move(v));
  }
  return false;
}

// csd_lock(): wait until the previous user's call ran, then claim the csd.
void SmpCall::csd_lock(cpu::GuestCpu& cpu, Csd& csd, bool sync) {
  cpu::Word& flags = *csd.flags;
  cpu.spin_until([&] { return (cpu.load(flags) & kLock) == 0; },
                 sim::WaitOn{flags.name + " (previous call queued on " + vcpu(csd.target) + ")",
                             csd.target, sim::Needs::kService, false});
  cpu.store(flags, kLock | (sync ? kSync : 0));
  cpu.smp_wmb();
}

void SmpCall::csd_unlock(cpu::GuestCpu& cpu, Csd& csd) {
  cpu.store(*csd.flags, 0);  // smp_store_release
}

// csd_lock_wait(): spin until the target ran the function. poll-own-queue also wakes up for calls
// queued on this CPU and runs them, so two waiting CPUs serve each other.
void SmpCall::csd_lock_wait(cpu::GuestCpu& cpu, Csd& csd) {
  cpu::Word& flags = *csd.flags;
  const std::string what = "csd of " + vcpu(csd.owner) + " queued on " + vcpu(csd.target);
  if (variant_ == Variant::kPollOwnQueue) {
    cpu::Word& own = *queues_[static_cast<std::size_t>(cpu.id())].head;
    for (;;) {
      bool unlocked = false;
      cpu.spin_until(
          [&] {
            unlocked = (cpu.load(flags) & kLock) == 0;
            return unlocked || cpu.load(own) != 0;
          },
          sim::WaitOn{what, csd.target, sim::Needs::kService, true});
      if (unlocked) break;
      ++metrics_.polled_flushes;
      flush_queue(cpu);
    }
  } else {
    cpu.spin_until([&] { return (cpu.load(flags) & kLock) == 0; },
                   sim::WaitOn{what, csd.target, sim::Needs::kService, false});
  }
  cpu.load(flags);  // smp_cond_load_acquire's final read
}

// llist_add() onto the target's queue; true when the queue was empty (only then an IPI).
bool SmpCall::enqueue(cpu::GuestCpu& cpu, int target, Csd& csd) {
  CallQueue& q = queues_[static_cast<std::size_t>(target)];
  const std::uint64_t old = cpu.rmw(*q.head, [&q, &csd](std::uint64_t n) {
    q.list.push_back(&csd);
    return n + 1;
  });
  return old == 0;
}

void SmpCall::flush_queue(cpu::GuestCpu& cpu) {
  CallQueue& q = queues_[static_cast<std::size_t>(cpu.id())];
  std::deque<Csd*> taken;
  cpu.rmw(*q.head, [&q, &taken](std::uint64_t) {  // llist_del_all()
    taken.swap(q.list);
    return 0;
  });
  for (Csd* c : taken) {
    if (cpu.load(*c->flags) & kSync) {  // the caller waits: run, then release it
      c->func(cpu);
      csd_unlock(cpu, *c);
    } else {  // nobody waits: free the csd first, it may be reused at once
      Func f = c->func;
      csd_unlock(cpu, *c);
      f(cpu);
    }
  }
}

// Seed 002 idea #1: callers queue on one lock, spinning with irqs enabled so that the holder's
// targets among them still take its IPI.
void SmpCall::lock_calls(cpu::GuestCpu& cpu) {
  const bool was_enabled = !cpu.irqs_disabled();
  if (!was_enabled) cpu.local_irq_restore(true);
  const std::uint64_t me = static_cast<std::uint64_t>(cpu.id()) + 1;
  for (std::uint64_t holder; (holder = cpu.cmpxchg(*call_lock_, 0, me)) != 0;) {
    cpu::Word& lock = *call_lock_;
    cpu.spin_until(
        [&] { return cpu.load(lock) == 0; },
        sim::WaitOn{lock.name, static_cast<int>(holder) - 1, sim::Needs::kProgress, false});
  }
  if (!was_enabled) cpu.local_irq_save();
}

void SmpCall::unlock_calls(cpu::GuestCpu& cpu) {
  cpu.store(*call_lock_, 0);
}

bool SmpCall::call_single(cpu::GuestCpu& cpu, int target, Func func, bool wait) {
  if (!allowed(cpu, "smp_call_function_single")) return false;
  if (target == cpu.id()) {  // runs here, with irqs off, as the kernel does
    const bool flags = cpu.local_irq_save();
    func(cpu);
    cpu.local_irq_restore(flags);
    return true;
  }
  if (variant_ == Variant::kGlobalLock) lock_calls(cpu);
  Csd& csd = wait ? *stack_csd_[static_cast<std::size_t>(cpu.id())]
                  : *async_csd_[static_cast<std::size_t>(cpu.id())];
  csd_lock(cpu, csd, wait);
  csd.func = std::move(func);
  csd.target = target;
  if (enqueue(cpu, target, csd)) {
    ++metrics_.ipis_sent;
    cpu.send_ipi(target);
  } else {
    ++metrics_.ipis_skipped;
  }
  if (wait) csd_lock_wait(cpu, csd);
  if (variant_ == Variant::kGlobalLock) unlock_calls(cpu);
  return true;
}

bool SmpCall::call_many(cpu::GuestCpu& cpu, const std::vector<int>& targets, Func func, bool wait) {
  if (!allowed(cpu, "smp_call_function_many")) return false;
  if (variant_ == Variant::kGlobalLock) lock_calls(cpu);
  const auto n = static_cast<std::size_t>(machine_.vcpu_count());
  std::vector<int> ipi_mask;
  std::vector<Csd*> used;
  for (int t : targets) {
    if (t == cpu.id()) continue;
    Csd& csd = *cfd_csd_[static_cast<std::size_t>(cpu.id()) * n + static_cast<std::size_t>(t)];
    csd_lock(cpu, csd, wait);
    csd.func = func;
    csd.target = t;
    if (enqueue(cpu, t, csd))
      ipi_mask.push_back(t);
    else
      ++metrics_.ipis_skipped;
    used.push_back(&csd);
  }
  if (!ipi_mask.empty()) {
    metrics_.ipis_sent += ipi_mask.size();
    cpu.send_ipi_many(ipi_mask);
  }
  if (wait)
    for (Csd* c : used) csd_lock_wait(cpu, *c);
  if (variant_ == Variant::kGlobalLock) unlock_calls(cpu);
  return true;
}

}  // namespace vcpusim::guest
