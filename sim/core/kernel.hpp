// The simulation core's choke point: one ordered event queue, simulated time, and guest
// coroutines. The driver is a SystemC thread that runs the queue's events and advances SystemC's
// clock; guest coroutines are fibers it switches to directly. Only one coroutine runs at a time,
// and only when the driver hands control to it, so no scheduler's own ordering (SystemC's
// same-delta order included) ever decides an observable result.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/core/stack_pool.hpp"
#include "sim/record/recorder.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

// The tie-break order at equal time is EventKey's (sim/core/event_queue.hpp): phase, component,
// sequence.
enum class Phase : int { kHost = 0, kInterrupt = 1, kWork = 2, kCheck = 3 };

class Kernel {
 public:
  Kernel();
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  Tick now() const { return now_; }
  Recorder& recorder() { return recorder_; }
  Components& components() { return recorder_.components(); }

  // Which of the two queues an event waits in (EventKey::lane); both pop as one, in key order.
  // Lookahead (docs/lookahead.md): a transparent event completes a guest operation of a vCPU
  // whose code until its next operation does only what its declared footprint says, touching no
  // line another vCPU's footprint declares private and pushing no barrier: code that runs ahead
  // (try_lookahead) may pass it. Every other event is a barrier that nothing passes.
  enum class Lane : std::uint8_t { kBarrier = 0, kTransparent = 1 };
  EventKey at(Tick when, Phase phase, int component, std::function<void()> fn);
  // The same for an event that is a plain call (EventCall::member): what the hot events use.
  EventKey at(Tick when, Phase phase, int component, EventCall call, Lane lane = Lane::kBarrier);
  // Moves a pending transparent event to the barriers under the same key (so the same order):
  // its owner's next code is no longer what it declared (an interrupt became pending).
  void make_barrier(EventKey& key);
  // Returns false when the event already ran or was cancelled.
  bool cancel(EventKey& key);

  // Registers a coroutine; it first runs on its first resume().
  int spawn(std::string name, std::function<void()> body);
  // Driver side: run the coroutine until it yields or finishes.
  void resume(int coroutine);
  // Coroutine side: give control back to whoever resumed us.
  void yield();
  // The running coroutine's stack, [first, second); both null outside a coroutine.
  std::pair<const char*, const char*> running_stack() const;
  // Coroutine side, temporal decoupling: moves simulated time forward to `t` without a context
  // switch when no event is due at or before `t` (nothing can observe the difference). Returns
  // false when the caller must take the event path instead.
  // Inline: guest operations call it several times per simulated microsecond.
  bool try_advance(Tick t) {
    if (!decoupling_ || t <= now_ || t > end_ || stopping_) return false;
    if (!queue_.empty() && queue_.top().time <= t) return false;
    if (!transparent_.empty() && transparent_.top().time <= t) return false;
    now_ = t;
    if (--steps_left_ == 0) decoupling_ = false;  // the budget is spent: see set_step_budget
    return true;
  }
  // Lookahead, for code whose declared footprint is private (docs/lookahead.md): the same, but
  // only barriers stop it, so it may pass pending transparent events, whose code touches nothing
  // it touches. From then until the driver runs the next event, running_ahead() is true: simulated
  // time is past a pending event, and the code may make no record and push no barrier before
  // the farthest point any code ran ahead to (both are lookahead violations, SimError).
  bool try_lookahead(Tick t) {
    if (!lookahead_ || !decoupling_ || t <= now_ || t > end_ || stopping_) return false;
    if (!queue_.empty() && queue_.top().time <= t) return false;
    if (!transparent_.empty() && transparent_.top().time <= t) {
      running_ahead_ = true;
      if (t > ahead_) ahead_ = t;
      ++lookahead_steps_;
    }
    now_ = t;
    if (--steps_left_ == 0) decoupling_ = false;
    return true;
  }
  // On by default; off forces every operation through the event queue (a baseline for
  // benchmarks and an equivalence check: results must be byte-identical either way).
  void set_temporal_decoupling(bool on) { decoupling_ = on && steps_left_ > 0; }
  // On by default; off: try_lookahead never passes anything (results are byte-identical either
  // way). Off as well under a step budget, whose stopping point counts steps in event order.
  void set_lookahead(bool on);
  // Where the coroutines' stacks come from and go back to (before run(); it must outlive this
  // kernel): a caller running many runs in a row keeps one pool for all. Without one each stack
  // is mapped at run() and unmapped with the kernel.
  void use_stacks(StackPool* pool) { stacks_ = pool; }
  bool running_ahead() const { return running_ahead_; }
  // The next event is no step (Vcpu::order_point's resume, which a run without lookahead lacks).
  void uncount_step() { ++steps_left_; }
  // Steps that ran ahead of a pending transparent event (the evidence that lookahead engaged).
  std::uint64_t lookahead_steps() const { return lookahead_steps_; }
  std::uint64_t inline_advances() const { return steps() - events_processed_; }

  // Runs until `end` or until no event is left. Rethrows what a coroutine or event threw.
  void run(Tick end);
  std::uint64_t events_processed() const { return events_processed_; }

  // A coroutine resumed this many times at one instant without time passing is stuck in time;
  // so is the whole model when this many events run at one instant (a hard error, as in VCML).
  static constexpr std::uint64_t kStuckLimit = 1000000;
  static constexpr std::uint64_t kStuckEvents = 10000000;

  // Called with the current time before the first event after every kPollEvents steps (events
  // and inline advances: lookahead can run millions of operations in a few events); returning
  // false stops the run there
  // (SIGINT, a wall-clock budget, a progress line). interrupted() then tells the run is partial.
  void set_poll(std::function<bool(Tick)> poll) { poll_ = std::move(poll); }
  bool interrupted() const { return interrupted_; }
  static constexpr std::uint64_t kPollEvents = 1 << 14;

  // A deterministic budget (a sweep's run_budget, run --max-steps): the run stops, interrupted(),
  // before its next event once `steps` steps are done. A step is an event the kernel ran or a
  // guest operation that advanced time inline (try_advance): the "sim.steps" metric. Both depend
  // only on the model, so a run stopped by its budget stops at the same point every time. One
  // count down for both keeps try_advance as cheap as counting its advances was; once it reaches
  // zero, operations take the event path, where drive() stops the run. 0: no budget.
  void set_step_budget(std::uint64_t steps);
  std::uint64_t steps() const { return step_budget_ - steps_left_; }
  bool budget_exceeded() const { return budget_exceeded_; }

 private:
  struct Spawned;
  struct Coroutine;
  void drive();
  [[noreturn]] void lookahead_violation(Tick when, int component) const;
  void start_fiber(std::size_t index);
  void park();

  Tick now_ = 0;
  Tick end_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t events_processed_ = 0;
  std::uint64_t step_budget_ = UINT64_MAX;
  std::uint64_t steps_left_ = UINT64_MAX;  // never 0 while decoupling_ is on
  bool budget_exceeded_ = false;
  bool decoupling_ = true;
  bool lookahead_wanted_ = true;
  bool lookahead_ = true;       // wanted and no step budget
  bool running_ahead_ = false;  // see try_lookahead
  Tick ahead_ = 0;              // the farthest any code ran ahead of a pending event
  std::uint64_t lookahead_steps_ = 0;
  Tick synced_ = 0;         // SystemC's time: trails now_ by under one sync quantum (kernel.cpp)
  EventQueue queue_;        // barriers
  EventQueue transparent_;  // Lane::kTransparent
  std::vector<Spawned> spawned_;  // what spawn() was given, by coroutine id
  StackPool* stacks_ = nullptr;
  // Created by run(), one slot per coroutine, and never resized: a hand-off reads one slot of
  // this array instead of chasing a pointer to a coroutine and another to its fiber (a thousand
  // vCPUs' coroutines do not stay in the cache between two resumes of one).
  std::vector<Coroutine> coroutines_;
  int current_ = -1;
  bool stopping_ = false;
  bool interrupted_ = false;
  std::function<bool(Tick)> poll_;
  std::uint64_t events_at_instant_ = 0;
  std::uint64_t next_poll_ = kPollEvents;  // in steps()
  std::exception_ptr error_;
  Recorder recorder_;
  struct SystemC;
  std::unique_ptr<SystemC> sc_;
};

}  // namespace vcpusim::sim
