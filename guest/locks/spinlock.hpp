// What every guest spinlock algorithm implements, and the kit it is built from. A lock owns its
// words (on cachelines allocated through the kit, so its cacheline transfers can be counted) and
// reaches shared per-kind state (per-CPU queue nodes, the pv hash table) through the kit. All
// guest-side reads and writes go through cpu::GuestCpu. docs/locks.md shows how to add one.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/locks/lock_params.hpp"

namespace vcpusim::guest {

class Spinlock {
 public:
  explicit Spinlock(std::string name) : name_(std::move(name)) {}
  virtual ~Spinlock() = default;
  virtual void lock(cpu::GuestCpu& cpu) = 0;
  virtual void unlock(cpu::GuestCpu& cpu) = 0;
  // Waiters get the lock in arrival order, so "next in line" is the earliest waiter (lock-waiter
  // preemption); an unfair lock can be taken by any waiter.
  virtual bool fair() const = 0;
  const std::string& name() const { return name_; }
  // The cachelines of this lock's own words.
  const std::vector<int>& lines() const { return lines_; }
  // Its first word's id: the label traces show it by.
  int label_id() const { return label_id_; }
  // That word (explore's windows name the lock by it).
  const cpu::Word* label_word() const { return label_word_; }
  // Lock steals (a newcomer takes the lock past a queue), and those made while the queue head
  // was halted (waiting for its kick, or kicked and not yet running again); only the eras of pvqspinlock that steal count them (lock_params.hpp).
  struct Steals {
    std::uint64_t total = 0;
    std::uint64_t while_head_halted = 0;
  };
  virtual std::optional<Steals> steals() const { return std::nullopt; }

 protected:
  // A word on a new cacheline of this lock (name "<lock>.<field>").
  cpu::Word& own_word(cpu::Machine& m, const std::string& field, std::uint64_t initial = 0);
  // Counts `line_word` (a word standing for a whole line, cpu::Memory::add_region) as one of this
  // lock's lines; the first one labels the lock.
  void adopt_line(const cpu::Word& line_word);
  // A word on the same cacheline as `on`.
  cpu::Word& word_beside(cpu::Machine& m, const cpu::Word& on, const std::string& field,
                         std::uint64_t initial = 0);

 private:
  std::string name_;
  std::vector<int> lines_;
  int label_id_ = -1;
  const cpu::Word* label_word_ = nullptr;
};

// One per guest: what lock algorithms are built from.
class LockKit {
 public:
  LockKit(cpu::Machine& machine, const LockParams& params) : machine_(machine), params_(params) {}
  cpu::Machine& machine() { return machine_; }
  const LockParams& params() const { return params_; }
  int cpus() const { return machine_.vcpu_count(); }
  // Running time of `spin_threshold` cpu_relax() loops: a pv waiter's spin budget.
  sim::Tick spin_budget() const { return params_.spin_threshold.value * params_.relax.value; }

  // State shared by every lock of one algorithm (per-CPU nodes, a hash table), made on first
  // use from the kit; its cachelines are counted with the locks' (shared_lines()).
  template <class T>
  T& shared() {
    auto it = shared_.find(std::type_index(typeid(T)));
    if (it == shared_.end())
      it = shared_.emplace(std::type_index(typeid(T)), std::make_shared<T>(*this)).first;
    return *std::static_pointer_cast<T>(it->second);
  }
  // A new cacheline for shared state.
  int shared_line() {
    shared_lines_.push_back(machine_.memory().new_line());
    return shared_lines_.back();
  }
  const std::vector<int>& shared_lines() const { return shared_lines_; }

 private:
  cpu::Machine& machine_;
  const LockParams& params_;
  std::map<std::type_index, std::shared_ptr<void>> shared_;  // looked up, never iterated
  std::vector<int> shared_lines_;
};

}  // namespace vcpusim::guest
