// Where a preemption can matter: the windows of a run. A vCPU is in a window while it has
// written one shared word and will write another ("pair.write": lock word, then hash entry),
// while it has read a shared word and will write another, a value it may derive from the read
// ("pair.read"), and inside a window guest code declares by name (guest/window_sites.hpp: lock
// slow paths and critical sections, seqcount write sections, the timekeeping update, RCU read
// sections). Positions are a vCPU's accesses to the counted words (cpu::Machine::
// count_accesses_to), the same numbers explore's preemption points are placed at: a window
// covers the accesses it spans, and a point placed at one of them preempts the vCPU inside it.
//
// WindowWatch watches one run: it lists the windows the run went through (the profile, from the
// scenario's own run) and the windows a preemption landed inside (coverage, every schedule).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cpu/run_observer.hpp"
#include "cpu/vm/memory.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::tools {

// A word's name with every run of digits folded to '#': qnode.cpu3.0.locked is
// qnode.cpu#.#.locked, so the same code on another CPU or lock is the same window.
std::string fold_digits(const std::string& name);

// One pass through a window by one vCPU: the accesses first..last (1-based, inclusive); a named
// window's pass also its time, from entering to leaving (begin == end for a pair window), and
// the word it is about (its id; -1 for none), which ties passes of two windows to one object.
struct WindowPass {
  int key = 0;  // index into WindowWatch::keys()
  int vcpu = 0;
  std::uint64_t first = 0, last = 0;
  sim::Tick begin = 0, end = 0;
  int object = -1;
};

class WindowWatch final : public cpu::RunObserver {
 public:
  // `counted`: the words whose accesses are counted (by name); `vcpus`: the machine's vCPUs.
  // `known`: nullptr to list every pass (the profile run); else the profile's windows, and
  // only the passes through windows it does not have are listed (the first kNewPasses of each):
  // a schedule that opened a new window is where a deeper schedule starts.
  WindowWatch(const std::vector<std::string>& counted, int vcpus,
              const std::set<std::string>* known);
  static constexpr std::uint64_t kNewPasses = 64;

  void access(int vcpu, const cpu::Word& w, bool write) override;
  void window(int vcpu, const cpu::WindowSite& site, const cpu::Word* object, bool open,
              sim::Tick now) override;
  void preempted(int vcpu) override;

  // Window names ("pair.write lock#.val -> pv_hash.#.lock", "lock.slowpath
  // pv_wait_head_or_lock lock#.val"), in the order first seen.
  const std::vector<std::string>& keys() const { return keys_; }
  const std::vector<WindowPass>& passes() const { return passes_; }
  // Windows a preemption of the vCPU landed inside (by name, sorted).
  std::set<std::string> hit() const;
  // Passes per window (by name).
  std::map<std::string, std::uint64_t> seen() const;

 private:
  struct Open {
    int key;
    std::uint64_t first;
    sim::Tick begin;
    int object;
    bool hit;
  };
  struct Cpu {
    std::uint64_t count = 0;
    int write_word = -1;  // folded name id of the last counted write, -1 for none
    std::uint64_t write_at = 0;
    int read_word = -1;  // the last counted read after that write
    std::uint64_t read_at = 0;
    std::uint64_t preempted_at = 0;  // position of the last preemption (0: none yet)
    bool preempted = false;
    std::vector<Open> named;
    std::vector<int> closed;  // the pair windows the last write closed
  };
  int key_of(const std::string& name);
  int pair_key(bool write, int from, int to);
  int folded(const cpu::Word& w);  // -1 when not counted
  void pass(const WindowPass& p, bool hit);

  std::set<std::string> counted_;
  bool count_all_;
  const std::set<std::string>* known_;
  std::vector<int> fresh_;  // by key: 1 when not among `known`
  std::vector<int> word_folded_;  // by word id: -2 unknown, -1 not counted, else name id
  std::vector<std::string> names_;
  std::map<std::string, int> name_ids_;
  std::vector<std::string> keys_;
  std::map<std::string, int> key_ids_;
  std::map<std::uint64_t, int> pair_keys_;
  // By site and object word id: the site's address is stable within a run (a guest constant)
  // and is never ordered by, only looked up.
  std::map<std::pair<const cpu::WindowSite*, int>, int> named_keys_;
  std::vector<std::uint64_t> pass_count_;
  std::vector<bool> hit_;
  std::vector<WindowPass> passes_;
  std::vector<Cpu> cpus_;
};

// Two passes of different named windows about the same object (WindowPass::object) by different
// vCPUs at the same time: a walk holding a notifier while another CPU unregisters it, a lock
// holder while another CPU waits in its slow path. `a` and `b` index the passes (a began first), [from, to) is the
// time both are open.
struct WindowOverlap {
  std::size_t a = 0, b = 0;
  sim::Tick from = 0, to = 0;
};
// The overlaps among `passes`, by name ("overlap K1 & K2", the two window names sorted), each
// list in the order of its object's id then time, at most `most` per name.
std::map<std::string, std::vector<WindowOverlap>> window_overlaps(
    const std::vector<std::string>& keys, const std::vector<WindowPass>& passes, std::size_t most);

// Does a window name match one of the patterns? A pattern ('*' for any run of characters, digits
// folded as in fold_digits) is matched against the window's kind, its code site and each word.
bool window_targeted(const std::string& key, const std::vector<std::string>& patterns);
// The targets of the checks in play (a scenario's `explore.targets` default): the windows whose
// preemption each check exists to catch; checks about every window add none.
std::vector<std::string> default_targets(const std::vector<std::string>& checks);

}  // namespace vcpusim::tools
