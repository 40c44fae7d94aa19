// What explore watches in a run (tools/explore/windows.hpp): every guest access to memory, the
// windows guest code declares, and the host taking a pCPU from a runnable vCPU. Never part of
// the model: an observer must not change what happens, and a run without one is the same run.
#pragma once
#include "sim/time.hpp"

namespace vcpusim::cpu {

class Word;

// A named window of guest code in which a host preemption may matter (a lock slow path, a
// critical section, a seqcount write section, a timekeeping update from the clock read to its
// publication, an RCU read-side critical section). `kind` is the window's class
// ("lock.slowpath"), `site` the kernel function it follows ("pv_wait_head_or_lock").
struct WindowSite {
  const char* kind;
  const char* site;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // A load, store or atomic of `vcpu` on `w`, as the access starts.
  virtual void access(int vcpu, const Word& w, bool write) = 0;
  // `vcpu` entered (open) or left a window at `now` (the vCPU's time); `object` names what it is
  // about (a lock's word), or nullptr.
  virtual void window(int vcpu, const WindowSite& site, const Word* object, bool open,
                      sim::Tick now) = 0;
  // The host took the pCPU from `vcpu` while its guest could run (not halted), or an injected
  // NMI interrupted it: either way it stops where it is.
  virtual void preempted(int vcpu) = 0;
};

}  // namespace vcpusim::cpu
