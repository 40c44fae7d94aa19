#include "cpu/vm/guest_api.hpp"

#include <cstring>

#include "cpu/machine.hpp"
#include "cpu/vm/hypervisor.hpp"
#include "sim/checks/lock_checks.hpp"
#include "sim/error.hpp"

namespace vcpusim::cpu {

Tick GuestCpu::now() const {
  return machine_.kernel().now();
}

Tick GuestCpu::access(Word& w, bool write) {
  if (machine_.verify_footprints()) verify_footprint(w, write);
  // Running ahead, only a cache hit leaves the line as every other access order would.
  if (machine_.kernel().running_ahead() && !machine_.memory().hit(vcpu_.pcpu(), w, write))
    vcpu_.order_point();
  if (machine_.counted(w)) vcpu_.on_access();
  if (RunObserver* o = machine_.observer()) o->access(vcpu_.index(), w, write);
  return machine_.memory().access(now(), vcpu_.pcpu(), w, write);
}

// run --verify-footprints: a declared task touches only the lines its footprint lists.
void GuestCpu::verify_footprint(const Word& w, bool write) const {
  const Footprint* f = vcpu_.declared_now();
  if (!f) return;
  for (const Word* d : f->writes)
    if (d->line == w.line) return;
  if (!write)
    for (const Word* d : f->reads)
      if (d->line == w.line) return;
  throw sim::SimError(
      "footprint violation: " + vcpu_.name() + " (" + f->what + ") " +
      (write ? "wrote " : "read ") + w.name + " at " + sim::format_time(now()) +
      ", on a line its declared footprint does not list for that (docs/lookahead.md)");
}

// A wait's condition is being evaluated: what it reads is what the wait watches.
void GuestCpu::read(Word& w) {
  if (WatchSet* ws = vcpu_.recording()) ws->add(w, w.version_);
}

std::uint64_t GuestCpu::load(Word& w) {
  op(machine_.costs().load.value + access(w, false));
  const std::uint64_t v = w.value_;
  read(w);
  vcpu_.boundary();
  return v;
}

void GuestCpu::store(Word& w, std::uint64_t v) {
  op(machine_.costs().store.value + access(w, true));
  machine_.memory().write(w, v);
  vcpu_.boundary();
}

void GuestCpu::store_field(Word& w, std::uint64_t mask, std::uint64_t v) {
  op(machine_.costs().store.value + access(w, true));
  machine_.memory().write(w, (w.value_ & ~mask) | (v & mask));
  vcpu_.boundary();
}

std::uint64_t GuestCpu::cmpxchg(Word& w, std::uint64_t expected, std::uint64_t desired) {
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = w.value_;
  if (old == expected) machine_.memory().write(w, desired);
  read(w);
  vcpu_.boundary();
  return old;
}

std::uint64_t GuestCpu::xchg(Word& w, std::uint64_t v) {
  return rmw(w, [v](std::uint64_t) { return v; });
}

std::uint64_t GuestCpu::fetch_add(Word& w, std::uint64_t delta) {
  return rmw(w, [delta](std::uint64_t old) { return old + delta; });
}

std::uint64_t GuestCpu::rmw(Word& w, const std::function<std::uint64_t(std::uint64_t)>& f) {
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = w.value_;
  machine_.memory().write(w, f(old));
  read(w);
  vcpu_.boundary();
  return old;
}

Word& GuestCpu::line_at(const void* p, int size, bool atomic, const char* what) {
  if (size != 1 && size != 2 && size != 4 && size != 8)
    fault(std::string(what) + " of " + std::to_string(size) + " bytes (1, 2, 4 or 8 allowed)");
  std::string why;
  Word* w = machine_.memory().line_word(p, static_cast<std::size_t>(size), why);
  if (!w) fault(std::string(what) + " of " + std::to_string(size) + " bytes: " + why);
  if (atomic && reinterpret_cast<std::uintptr_t>(p) % static_cast<std::uintptr_t>(size) != 0)
    fault("unaligned " + std::to_string(size) + "-byte " + what + " on line " + w->name +
          " (an atomic must be naturally aligned)");
  return *w;
}

void GuestCpu::fault(const std::string& what) const {
  throw sim::ConfigError("guest code on vCPU " + std::to_string(id()) + " at " +
                         sim::format_time(now()) + ": " + what);
}

void GuestCpu::note_read(Word& w) {
  read(w);
  for (auto& e : relax_reads_.entries)
    if (e.word == &w) {
      e.version = w.version_;
      return;
    }
  relax_reads_.entries.push_back({&w, w.version_});
}

void GuestCpu::wrote(Word& w) {
  machine_.memory().write(w, w.value_ + 1);
}

namespace {
std::uint64_t get_bytes(const void* p, int size) {
  std::uint64_t v = 0;  // little-endian host: the low `size` bytes
  std::memcpy(&v, p, static_cast<std::size_t>(size));
  return v;
}
void put_bytes(void* p, int size, std::uint64_t v) {
  std::memcpy(p, &v, static_cast<std::size_t>(size));
}
std::uint64_t truncate(std::uint64_t v, int size) {
  return size == 8 ? v : v & ((std::uint64_t{1} << (8 * size)) - 1);
}
}  // namespace

std::uint64_t GuestCpu::load_at(const void* p, int size) {
  Word& w = line_at(p, size, false, "load");
  op(machine_.costs().load.value + access(w, false));
  const std::uint64_t v = get_bytes(p, size);
  marked(w, p, size, true, false);
  note_read(w);
  vcpu_.boundary();
  return v;
}

void GuestCpu::store_at(void* p, int size, std::uint64_t v) {
  Word& w = line_at(p, size, false, "store");
  op(machine_.costs().store.value + access(w, true));
  put_bytes(p, size, v);
  marked(w, p, size, false, true);
  wrote(w);
  vcpu_.boundary();
}

std::uint64_t GuestCpu::cmpxchg_at(void* p, int size, std::uint64_t expected,
                                   std::uint64_t desired) {
  Word& w = line_at(p, size, true, "cmpxchg");
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = get_bytes(p, size);
  const bool swapped = old == truncate(expected, size);
  marked(w, p, size, true, swapped);
  if (swapped) {
    put_bytes(p, size, desired);
    wrote(w);
  }
  note_read(w);
  vcpu_.boundary();
  return old;
}

std::uint64_t GuestCpu::xchg_at(void* p, int size, std::uint64_t v) {
  return rmw_at(
      p, size, [v](std::uint64_t) { return v; }, "xchg");
}

std::uint64_t GuestCpu::fetch_add_at(void* p, int size, std::uint64_t delta) {
  return rmw_at(
      p, size, [delta](std::uint64_t old) { return old + delta; }, "fetch_add");
}

std::uint64_t GuestCpu::rmw_at(void* p, int size,
                               const std::function<std::uint64_t(std::uint64_t)>& f,
                               const char* what) {
  Word& w = line_at(p, size, true, what);
  op(machine_.costs().atomic.value + access(w, true));
  const std::uint64_t old = get_bytes(p, size);
  marked(w, p, size, true, true);
  put_bytes(p, size, f(old));
  wrote(w);
  note_read(w);
  vcpu_.boundary();
  return old;
}

void GuestCpu::marked(const Word& line, const void* p, int size, bool read, bool write) {
  if (RaceDetector* r = machine_.races())
    r->marked(id(), now(), line, p, static_cast<std::size_t>(size), read, write);
}

void GuestCpu::plain_access(const void* p, std::size_t size, bool write, bool is_marked,
                            const void* pc, const std::uint64_t* frame) {
  land_plain();
  if (!write && frame)
    wait_if_fixed_point(frame);
  else
    loop_.reset();
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  for (std::uintptr_t at = start; at < start + size;) {
    std::uintptr_t line_end = 0;
    Word* w = machine_.memory().line_of(reinterpret_cast<const void*>(at), line_end);
    if (!w) {
      if (!on_own_stack(at)) loop_.reset();  // host memory: no wait could watch it
      ++at;                                  // a local byte: the fiber's stack or host memory
      continue;
    }
    const std::uintptr_t end = std::min<std::uintptr_t>(line_end, start + size);
    const auto& costs = machine_.costs();
    op((write ? costs.store.value : costs.load.value) + access(*w, write));
    if (RaceDetector* r = machine_.races()) {
      const void* bytes = reinterpret_cast<const void*>(at);
      if (is_marked)
        r->marked(id(), now(), *w, bytes, end - at, !write, write);
      else
        r->plain(id(), now(), *w, bytes, end - at, write, pc);
    }
    if (write) {
      plain_stores_.push_back(w);
    } else {
      note_read(*w);
      loop_.loaded(*w, w->version_);
    }
    plain_boundary_owed_ = true;
    at = end;
  }
  loop_.done(vcpu_.operations());
}

void GuestCpu::wait_if_fixed_point(const std::uint64_t* frame) {
  const auto stack = machine_.kernel().running_stack();
  const char* f = reinterpret_cast<const char*>(frame);
  if (f < stack.first || f >= stack.second) {
    loop_.reset();
    return;
  }
  if (!loop_.at_fixed_point(CodeState{frame, stack.second}, vcpu_.operations())) return;
  const WatchSet watched = loop_.take_reads();
  vcpu_.count_fixed_point_wait();
  Tick budget = sim::kForever;
  vcpu_.block(WaitSpec::spin_without_pause(), watched, budget);
}

bool GuestCpu::on_own_stack(std::uintptr_t at) const {
  const auto stack = machine_.kernel().running_stack();
  return at >= reinterpret_cast<std::uintptr_t>(stack.first) &&
         at < reinterpret_cast<std::uintptr_t>(stack.second);
}

void GuestCpu::land_plain() {
  if (!plain_boundary_owed_) return;
  plain_boundary_owed_ = false;
  for (Word* w : plain_stores_) wrote(*w);  // wakes watchers as events: nothing runs here
  plain_stores_.clear();
  vcpu_.boundary();
}

void GuestCpu::cpu_relax() {
  if (relax_reads_.empty()) {
    compute(machine_.costs().pause_iteration.value);
    return;
  }
  WatchSet watched;
  std::swap(watched, relax_reads_);
  Tick budget = sim::kForever;
  vcpu_.block(WaitSpec::spin(), watched, budget);
}

void GuestCpu::send_ipi_many(const std::vector<int>& targets) {
  machine_.apic().send(vcpu_, targets, Vector::kIpi);
  vcpu_.boundary();
}

void GuestCpu::send_nmi(int target) {
  machine_.apic().send(vcpu_, {target}, Vector::kNmi);
  vcpu_.boundary();
}

void GuestCpu::send_resched(int target) {
  machine_.apic().send(vcpu_, {target}, Vector::kResched);
  vcpu_.boundary();
}

void GuestCpu::halt() {
  wait([] { return false; }, WaitSpec::halt());
}

WakeReason GuestCpu::pv_wait(Word& w, std::uint64_t val, std::uint64_t mask) {
  if (in_nmi()) return WakeReason::kCondition;  // kvm_wait returns at once in NMI context
  return wait([&] { return (load(w) & mask) != val; }, WaitSpec::halt());
}

template <class Fn>
WakeReason GuestCpu::probed_halt(const std::string& what, const WakeCondition& owed, Fn halt_fn) {
  sim::LostWakeupCheck* check = machine_.lost_wakeup_check();
  if (!check || !owed || in_nmi()) return halt_fn();
  Peek peek;
  vcpu_.set_halt_probe([&] {
    machine_.memory().unwatch(peek.read, vcpu_);
    peek.read.entries.clear();
    const bool holds = owed(peek);
    machine_.memory().watch(peek.read, vcpu_);
    check->update(id(), what, holds && vcpu_.guest_state() == GuestState::kHalted);
  });
  const WakeReason why = halt_fn();
  vcpu_.set_halt_probe(nullptr);
  machine_.memory().unwatch(peek.read, vcpu_);
  check->resumed(id());
  return why;
}

WakeReason GuestCpu::pv_wait_at(const void* p, int size, std::uint64_t val) {
  if (in_nmi()) return WakeReason::kCondition;  // kvm_wait returns at once in NMI context
  // What C code waits for is the bytes changing: while they differ from `val` and the vCPU is
  // still halted, it is owed a kick (no_lost_wakeup).
  Word& line = line_at(p, size, false, "pv_wait");
  const std::uint64_t want = truncate(val, size);
  const WakeCondition owed = [&line, p, size, want](Peek& peek) {
    peek(line);
    return get_bytes(p, size) != want;
  };
  const WakeReason why = probed_halt("pv_wait on " + line.name, owed, [&] {
    return wait([&] { return load_at(p, size) != want; }, WaitSpec::halt());
  });
  if (RaceDetector* r = machine_.races()) r->woken(id());
  return why;
}

WakeReason GuestCpu::pv_wait(Word& w, std::uint64_t val, std::uint64_t mask,
                             const std::string& what, const WakeCondition& owed) {
  return probed_halt(what, owed, [&] { return pv_wait(w, val, mask); });
}

void GuestCpu::halt(const std::string& what, const WakeCondition& owed) {
  probed_halt(what, owed, [this] {
    halt();
    return WakeReason::kInterrupt;
  });
}

Tick GuestCpu::hypercall_cost() {
  const CostParams& c = machine_.costs();
  return machine_.latency(c.hypercall.value, c.hypercall_jitter.value, vcpu_.component(),
                          "hypercall.latency");
}

void GuestCpu::pv_kick(int cpu) {
  vcpu_.count_kick_sent();
  if (RaceDetector* r = machine_.races()) r->kick(id(), cpu);
  Hypervisor& hv = machine_.hypervisor();
  vcpu_.vm_exit(hypercall_cost(), [&hv, this, cpu] { hv.kick_cpu(vcpu_, cpu); });
}

void GuestCpu::sched_yield(int cpu) {
  Hypervisor& hv = machine_.hypervisor();
  vcpu_.vm_exit(hypercall_cost(), [&hv, this, cpu] { hv.sched_yield(vcpu_, cpu); });
}

bool GuestCpu::vcpu_is_preempted(int cpu) {
  return load(machine_.hypervisor().preempted_word(cpu)) != 0;
}

bool GuestCpu::pv_unhalt() const {
  return machine_.hypervisor().pv_unhalt();
}

int GuestCpu::begin_wait(sim::WaitOn on) {
  sim::WaitGraph* g = machine_.wait_graph();
  if (!g) return 0;
  on.serviceable = on.serviceable || vcpu_.irqs_enabled();
  return g->begin(id(), std::move(on));
}

void GuestCpu::end_wait(int token) {
  if (sim::WaitGraph* g = machine_.wait_graph()) g->end(id(), token);
}

void GuestCpu::smp_mb() {
  op(machine_.costs().barrier.value);
  vcpu_.boundary();
}

void GuestCpu::compute(Tick cost) {
  op(cost);
  vcpu_.boundary();
}

std::uint64_t GuestCpu::rdtsc() {
  op(machine_.costs().rdtsc.value);
  const std::uint64_t v = machine_.tsc_at(now());
  vcpu_.boundary();
  return v;
}

bool GuestCpu::local_irq_save() {
  const bool was = vcpu_.irqs_enabled();
  vcpu_.set_irqs_enabled(false);
  return was;
}

void GuestCpu::local_irq_restore(bool was_enabled) {
  vcpu_.set_irqs_enabled(was_enabled);
  if (was_enabled) vcpu_.boundary();
}

void GuestCpu::window(const WindowSite& site, const Word* object, bool open) {
  if (RunObserver* o = machine_.observer()) o->window(vcpu_.index(), site, object, open, now());
}

void GuestCpu::trace(const char* kind, std::int64_t a, std::int64_t b) {
  order_point();
  machine_.kernel().recorder().note(now(), vcpu_.component(), kind, a, b);
}

sim::Metrics& GuestCpu::metrics() {
  return machine_.metrics();
}
sim::Violations& GuestCpu::violations() {
  return machine_.violations();
}

}  // namespace vcpusim::cpu
