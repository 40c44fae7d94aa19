#include "guest/nmi_safe_time.hpp"

namespace vcpusim::guest {

NmiSafeTime::NmiSafeTime(cpu::Machine& machine, NmiVariant variant, Seqcount& tk_seq,
                         ClockWords& tk, sim::Tick read_compute)
    : machine_(machine), variant_(variant), tk_seq_(tk_seq), tk_(tk), read_compute_(read_compute) {
  cpu::Memory& mem = machine.memory();
  if (variant_ == Variant::kLatch) {
    latch_seq_ = &mem.word("tk_fast_mono.seq");
    latch_[0] = make_clock_words(mem, "tk_fast_mono.base0", latch_seq_->line);
    latch_[1] = make_clock_words(mem, "tk_fast_mono.base1", latch_seq_->line);
  } else if (variant_ == Variant::kOwnerShadow || variant_ == Variant::kNoBarrier) {
    owner_ = &mem.word("tk_core.owner_cpu");
    copy_ = make_clock_words(mem, "tk_core.nmi_shadow", mem.new_line());
  }
}

void NmiSafeTime::init(const ClockBase& initial) {
  if (variant_ == Variant::kLatch) {
    latch_[0].init(machine_.memory(), initial);
    latch_[1].init(machine_.memory(), initial);
  } else if (variant_ != Variant::kNaive) {
    copy_.init(machine_.memory(), initial);
  }
}

void NmiSafeTime::before_write_begin(cpu::GuestCpu& cpu) {
  if (variant_ != Variant::kOwnerShadow && variant_ != Variant::kNoBarrier) return;
  copy_.store(cpu, tk_.load(cpu));  // the old timekeeper, consistent: only we write it
  if (variant_ == Variant::kOwnerShadow) {
    cpu.store(*owner_, static_cast<std::uint64_t>(cpu.id()) + 1);
    cpu.barrier();  // owner stored before the sequence turns odd, as a nested NMI sees it
  }
}

void NmiSafeTime::after_write_begin(cpu::GuestCpu& cpu) {
  // Without the barrier nothing keeps the owner store above the increment: it lands after it.
  if (variant_ == Variant::kNoBarrier) cpu.store(*owner_, static_cast<std::uint64_t>(cpu.id()) + 1);
}

void NmiSafeTime::published(cpu::GuestCpu& cpu, const ClockBase& base) {
  if (variant_ != Variant::kLatch) return;
  // raw_write_seqcount_latch twice around the two copies: odd -> readers use copy 1 while copy 0
  // is written, even -> readers use copy 0 while copy 1 is written.
  const std::uint64_t seq = cpu.load(*latch_seq_);
  cpu.store(*latch_seq_, seq + 1);
  cpu.smp_wmb();
  latch_[0].store(cpu, base);
  cpu.smp_wmb();
  cpu.store(*latch_seq_, seq + 2);
  cpu.smp_wmb();
  latch_[1].store(cpu, base);
}

void NmiSafeTime::before_write_end(cpu::GuestCpu& cpu) {
  // Without the barrier the clearing store may rise above the final increment.
  if (variant_ == Variant::kNoBarrier) cpu.store(*owner_, 0);
}

void NmiSafeTime::after_write_end(cpu::GuestCpu& cpu) {
  if (variant_ != Variant::kOwnerShadow) return;
  cpu.barrier();  // the sequence is even again before the owner is cleared
  cpu.store(*owner_, 0);
}

std::int64_t NmiSafeTime::compute(cpu::GuestCpu& cpu, const ClockBase& base) {
  const std::uint64_t cycles = cpu.rdtsc();
  cpu.compute(read_compute_);
  return base.read_ns(cycles);
}

std::int64_t NmiSafeTime::read(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  return variant_ == Variant::kLatch ? read_latch(cpu, retries) : read_owner_shadow(cpu, retries);
}

// The RFC's read side: the seqcount fast path; when the sequence is odd, the owner CPU falls
// back to the copy and any other CPU waits for the writer and retries.
std::int64_t NmiSafeTime::read_owner_shadow(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  cpu::Word& seq = tk_seq_.word();
  for (;;) {
    const std::uint64_t s = cpu.load(seq);
    if ((s & 1) == 0) {
      cpu.smp_rmb();
      const ClockBase base = tk_.load(cpu);
      const std::int64_t ns = compute(cpu, base);
      if (!tk_seq_.read_retry(cpu, s)) return ns;
      ++retries;
      continue;
    }
    if (cpu.load(*owner_) == static_cast<std::uint64_t>(cpu.id()) + 1) {
      ++shadow_reads_;
      return compute(cpu, copy_.load(cpu));
    }
    cpu.spin_until([&] { return cpu.load(seq) != s; },
                   sim::WaitOn{seq.name, tk_seq_.writer(), sim::Needs::kProgress, false});
    ++retries;
  }
}

// The latch reader never waits: it reads the copy the writer is not touching.
std::int64_t NmiSafeTime::read_latch(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  for (;;) {
    const std::uint64_t s = cpu.load(*latch_seq_);
    cpu.smp_rmb();
    const ClockBase base = latch_[s & 1].load(cpu);
    const std::int64_t ns = compute(cpu, base);
    cpu.smp_rmb();
    if (cpu.load(*latch_seq_) == s) return ns;
    ++retries;
  }
}

}  // namespace vcpusim::guest
