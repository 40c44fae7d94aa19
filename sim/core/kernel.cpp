#include "sim/core/kernel.hpp"

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <systemc>

#include "sim/core/asan.hpp"
#include "sim/core/fiber.hpp"
#include "sim/error.hpp"

#if defined(VCPUSIM_ASAN)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace vcpusim::sim {
namespace {

// Thrown inside a coroutine to unwind its stack when the run ends; never escapes the wrapper.
struct CoroutineExit {};

// Generous stacks: guest handlers nest on the same stack, and sanitizers multiply frame sizes.
constexpr std::size_t kCoroutineStackBytes = 1 << 20;

// SystemC time trails the model's time by at most this much: the driver advances it in quanta, as
// a TLM quantum keeper does, instead of one timed wait per distinct event time. Nothing in the
// model reads SystemC's clock, so the quantum changes no result; it only bounds the lag.
constexpr Tick kSyncQuantum = 1'000'000;  // 1 us

// SystemC annotates its QuickThreads stack switches for AddressSanitizer, but not every one: after
// sc_start returns, ASan can still believe this thread runs on a coroutine stack, ignore the stack
// clean-up of the next exception thrown here, and report the stale redzones of dead frames as
// overflows. Tell it which stack this is again, and clear the dead frames below the caller.
void restore_sanitizer_stack() {
#if defined(VCPUSIM_ASAN)
  pthread_attr_t attr;
  void* bottom = nullptr;
  std::size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &bottom, &size);
    pthread_attr_destroy(&attr);
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
  }
  char probe;
  const auto low = reinterpret_cast<std::uintptr_t>(bottom);
  const auto high = reinterpret_cast<std::uintptr_t>(&probe) & ~std::uintptr_t{4095};
  if (bottom && high > low) ASAN_UNPOISON_MEMORY_REGION(bottom, high - low);
#endif
}

}  // namespace

struct Kernel::Spawned {
  std::string name;
  std::function<void()> body;  // moved into the fiber when the run starts
};

// What a hand-off touches, in one cacheline: the stuck-in-time count and the fiber's switch state
// (Fiber keeps it first). Guest code runs on a fiber the driver switches to directly: a hand-off
// is a register swap, not a trip through SystemC's scheduler.
struct alignas(64) Kernel::Coroutine {
  Tick last_resume = -1;
  std::uint64_t resumes_at_instant = 0;
  std::optional<Fiber> fiber;
};

// One fresh SystemC context per run, so several runs can share a process (tests, sweeps).
struct Kernel::SystemC {
  sc_core::sc_simcontext* context = nullptr;
  sc_core::sc_simcontext* previous = nullptr;  // restored afterwards: SystemC owns that one
  std::unique_ptr<sc_core::sc_event> never;    // the driver parks on it once the run is over
};

Kernel::~Kernel() {
  coroutines_.clear();
  if (sc_) {
    sc_->never.reset();
    if (sc_core::sc_curr_simcontext == sc_->context) {
      sc_core::sc_curr_simcontext = sc_->previous;
      sc_core::sc_default_global_context = sc_->previous;
    }
    delete sc_->context;
  }
}

Kernel::Kernel() {
  recorder_.guard(&running_ahead_);
}

EventKey Kernel::at(Tick when, Phase phase, int component, std::function<void()> fn) {
  if (when < now_) throw SimError("event scheduled in the past");
  if (when < ahead_) lookahead_violation(when, component);
  EventKey key{when, static_cast<int>(phase), component, next_seq_++};
  queue_.push(key, std::move(fn));
  return key;
}

EventKey Kernel::at(Tick when, Phase phase, int component, EventCall call, Lane lane) {
  if (when < now_) throw SimError("event scheduled in the past");
  EventKey key{when, static_cast<int>(phase), component, next_seq_++};
  if (lane == Lane::kTransparent) {
    key.lane = static_cast<std::uint8_t>(lane);
    transparent_.push(key, call);
  } else {
    if (when < ahead_) lookahead_violation(when, component);
    queue_.push(key, call);
  }
  return key;
}

void Kernel::make_barrier(EventKey& key) {
  if (key.lane != static_cast<std::uint8_t>(Lane::kTransparent) || !transparent_.holds(key)) return;
  if (key.time < ahead_) lookahead_violation(key.time, key.component);
  const EventCall call = transparent_.take(key);
  key.lane = static_cast<std::uint8_t>(Lane::kBarrier);
  queue_.push(key, call);
}

// A barrier due before a point some code already ran ahead to: that code passed it. Only a
// footprint declaration that was wrong gets here (transparent code that pushed a barrier).
void Kernel::lookahead_violation(Tick when, int component) const {
  throw SimError("lookahead violation: an event of " + recorder_.components().at(component).name +
                 " due at " + format_time(when) + " is a barrier, but code already ran ahead to " +
                 format_time(ahead_) +
                 "; a footprint declaration does not cover what its code does (docs/lookahead.md)");
}

void Kernel::set_lookahead(bool on) {
  lookahead_wanted_ = on;
  lookahead_ = on && step_budget_ == UINT64_MAX;
}

bool Kernel::cancel(EventKey& key) {
  if (!key.valid()) return false;
  const bool erased =
      (key.lane == static_cast<std::uint8_t>(Lane::kTransparent) ? transparent_ : queue_)
          .cancel(key);
  key = EventKey{};
  return erased;
}

int Kernel::spawn(std::string name, std::function<void()> body) {
  spawned_.push_back(Spawned{std::move(name), std::move(body)});
  return static_cast<int>(spawned_.size()) - 1;
}

// A coroutine's fiber runs the body on its first resume and ends with it (the run finishing
// unwinds every body, so no fiber is ever let go of with frames on its stack). The fiber owns the
// body: a spawn() during the run may move spawned_ while this body runs.
void Kernel::start_fiber(std::size_t index) {
  coroutines_[index].fiber.emplace(
      [this, body = std::move(spawned_[index].body)] {
        try {
          if (!stopping_) body();
        } catch (const CoroutineExit&) {
        } catch (...) {
          error_ = std::current_exception();
        }
      },
      kCoroutineStackBytes, index, stacks_);
}

// The SystemC driver thread never returns: a terminating QuickThreads thread leaves
// AddressSanitizer with the wrong stack bounds. It is freed with its context.
void Kernel::park() {
  sc_core::wait(*sc_->never);
}

void Kernel::resume(int id) {
  const auto index = static_cast<std::size_t>(id);
  if (current_ != -1)
    throw SimError("resume() called from inside coroutine " + spawned_.at(index).name);
  if (index >= coroutines_.size())
    throw SimError(spawned_.at(index).name + " was spawned after the run started");
  Coroutine& co = coroutines_[index];
  if (co.fiber->finished()) return;
  if (co.last_resume == now_) {
    if (++co.resumes_at_instant > kStuckLimit)
      throw SimError(spawned_[index].name + " is stuck in time at " + format_time(now_) +
                     ": resumed " + std::to_string(kStuckLimit) +
                     " times without simulated time passing");
  } else {
    co.last_resume = now_;
    co.resumes_at_instant = 0;
  }
  current_ = id;
  co.fiber->resume();
  current_ = -1;
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

std::pair<const char*, const char*> Kernel::running_stack() const {
  if (current_ == -1) return {nullptr, nullptr};
  const Fiber& f = *coroutines_[static_cast<std::size_t>(current_)].fiber;
  return {f.stack_low(), f.stack_high()};
}

void Kernel::yield() {
  if (current_ == -1) throw SimError("yield() called outside a coroutine");
  coroutines_[static_cast<std::size_t>(current_)].fiber->suspend();
  if (stopping_) throw CoroutineExit{};
}

void Kernel::drive() {
  try {
    for (;;) {
      // The two queues pop as one, in key order.
      EventQueue* q = &queue_;
      if (queue_.empty()) {
        if (transparent_.empty()) break;
        q = &transparent_;
      } else if (!transparent_.empty() && transparent_.top() < queue_.top()) {
        q = &transparent_;
      }
      const Tick next = q->top().time;
      if (next > end_) break;
      if (next >= synced_ + kSyncQuantum) {
        sc_core::wait(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(next - synced_)));
        synced_ = next;
      }
      events_at_instant_ = next == now_ ? events_at_instant_ + 1 : 0;
      if (events_at_instant_ > kStuckEvents)
        throw SimError("the model is stuck in time at " + format_time(now_) + ": " +
                       std::to_string(kStuckEvents) + " events without simulated time passing");
      if (steps_left_ == 0) {
        budget_exceeded_ = interrupted_ = true;
        break;
      }
      if (poll_ && steps() >= next_poll_) {
        next_poll_ = steps() + kPollEvents;
        if (!poll_(now_)) {
          interrupted_ = true;
          break;
        }
      }
      now_ = next;
      running_ahead_ = false;
      const EventCall call = q->pop();
      ++events_processed_;
      if (--steps_left_ == 0) decoupling_ = false;
      call();
    }
    if (!interrupted_ && end_ > synced_) {
      sc_core::wait(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(end_ - synced_)));
      synced_ = end_;
    }
    if (!interrupted_) now_ = end_;
  } catch (...) {
    error_ = std::current_exception();
  }
  // Unwind every suspended coroutine so the objects on its stack are destroyed.
  stopping_ = true;
  for (std::size_t i = 0; i < coroutines_.size(); ++i) {
    Coroutine& co = coroutines_[i];
    if (co.fiber->finished()) continue;
    current_ = static_cast<int>(i);
    co.fiber->resume();
    current_ = -1;
  }
  sc_core::sc_stop();
  park();
}

void Kernel::set_step_budget(std::uint64_t steps) {
  const std::uint64_t done = this->steps();
  step_budget_ = steps == 0 ? UINT64_MAX : steps;
  steps_left_ = step_budget_ > done ? step_budget_ - done : 0;
  if (steps_left_ == 0) decoupling_ = false;
  set_lookahead(lookahead_wanted_);
}

void Kernel::run(Tick end) {
  if (sc_) throw SimError("Kernel::run() may be called once");
  end_ = end;
  sc_ = std::make_unique<SystemC>();
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_->previous = sc_core::sc_curr_simcontext;
  sc_->context = new sc_core::sc_simcontext;
  sc_core::sc_curr_simcontext = sc_->context;
  sc_core::sc_default_global_context = sc_->context;
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_->never = std::make_unique<sc_core::sc_event>();
  sc_core::sc_spawn_options options;
  options.set_stack_size(static_cast<int>(kCoroutineStackBytes));
  coroutines_ = std::vector<Coroutine>(spawned_.size());
  for (std::size_t i = 0; i < coroutines_.size(); ++i) start_fiber(i);
  sc_core::sc_spawn([this] { drive(); }, "vcpusim_driver", &options);
  sc_core::sc_start();
  restore_sanitizer_stack();
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace vcpusim::sim
