// The trace-only notes guest models record on a vCPU's lane (cpu::GuestCpu::trace, or
// sim::Recorder::note on the vCPU's component), declared once for the models that record them,
// the guest's trace vocabulary that draws them (trace_lanes.hpp claims these kinds, so cpu/
// never reads them) and the tests. docs/trace.md describes their arguments.
#pragma once

namespace vcpusim::guest::trace_kind {

// A lock hold, a = the lock's label id: an async span from acquire to release (lock_torture).
inline constexpr char kLockAcquire[] = "lock.acquire";
inline constexpr char kLockRelease[] = "lock.release";
// lock_torture's preemption marks, a = the lock's label id, b = its waiters: the holder, or the
// waiter next in line, was preempted.
inline constexpr char kLockHolderPreempted[] = "lock.lhp";
inline constexpr char kLockWaiterPreempted[] = "lock.lwp";
// pvqspinlock (eras 2016, current), a = the lock's label id: a newcomer took the lock past the
// queue while its head was halted (locks.steals_while_head_halted counts them).
inline constexpr char kLockStealPastHaltedHead[] = "lock.steal_halted_head";
// A seqcount write section, a = the sequence word's id: an async span from begin to end.
inline constexpr char kSeqWriteBegin[] = "seq.write_begin";
inline constexpr char kSeqWriteEnd[] = "seq.write_end";

// C guest code (plugin/, docs/c-guest-code.md), a = the label id of its text: a note (an
// instant) and a named span from begin to end on the vCPU's lane.
inline constexpr char kCodeNote[] = "c.note";
inline constexpr char kCodeSpanBegin[] = "c.span_begin";
inline constexpr char kCodeSpanEnd[] = "c.span_end";

}  // namespace vcpusim::guest::trace_kind
