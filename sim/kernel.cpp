#include "sim/kernel.hpp"

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <cstdlib>

#include "sim/error.hpp"

namespace vcpusim::sim {
namespace {

// Thrown inside a coroutine to unwind its stack when the run ends; never escapes the wrapper.
struct CoroutineExit {};

// SystemC threads get generous stacks: guest handlers nest on the same stack, and sanitizers
// multiply frame sizes.
constexpr int kCoroutineStackBytes = 1 << 20;

}  // namespace

struct Kernel::Coroutine {
  std::string name;
  std::function<void()> body;
  std::unique_ptr<sc_core::sc_event> resume_ev;
  bool started = false;
  bool finished = false;
  Tick last_resume = -1;
  std::uint64_t resumes_at_instant = 0;
};

// One fresh SystemC context per run, so several runs can share a process (tests, sweeps).
struct Kernel::SystemC {
  sc_core::sc_simcontext* context = nullptr;
  std::unique_ptr<sc_core::sc_event> driver_ev;
};

Kernel::Kernel() = default;

Kernel::~Kernel() {
  coroutines_.clear();
  if (sc_) {
    sc_->driver_ev.reset();
    if (sc_core::sc_curr_simcontext == sc_->context) {
      sc_core::sc_curr_simcontext = nullptr;
      sc_core::sc_default_global_context = nullptr;
    }
    delete sc_->context;
  }
}

EventKey Kernel::at(Tick when, Phase phase, int component, std::function<void()> fn) {
  if (when < now_) throw SimError("event scheduled in the past");
  EventKey key{when, static_cast<int>(phase), component, next_seq_++};
  queue_.emplace(key, std::move(fn));
  return key;
}

bool Kernel::cancel(EventKey& key) {
  if (!key.valid()) return false;
  const bool erased = queue_.erase(key) > 0;
  key = EventKey{};
  return erased;
}

int Kernel::spawn(std::string name, std::function<void()> body) {
  auto co = std::make_unique<Coroutine>();
  co->name = std::move(name);
  co->body = std::move(body);
  coroutines_.push_back(std::move(co));
  return static_cast<int>(coroutines_.size()) - 1;
}

void Kernel::coroutine_main(Coroutine& co) {
  sc_core::wait(*co.resume_ev);
  try {
    if (!stopping_) co.body();
  } catch (const CoroutineExit&) {
  } catch (...) {
    error_ = std::current_exception();
  }
  co.finished = true;
  sc_->driver_ev->notify();
}

void Kernel::resume(int id) {
  Coroutine& co = *coroutines_.at(static_cast<std::size_t>(id));
  if (current_ != -1) throw SimError("resume() called from inside coroutine " + co.name);
  if (co.finished) return;
  if (co.last_resume == now_) {
    if (++co.resumes_at_instant > kStuckLimit)
      throw SimError(co.name + " is stuck in time at " + format_duration(now_) + ": resumed " +
                     std::to_string(kStuckLimit) + " times without simulated time passing");
  } else {
    co.last_resume = now_;
    co.resumes_at_instant = 0;
  }
  current_ = id;
  co.started = true;
  co.resume_ev->notify();
  sc_core::wait(*sc_->driver_ev);
  current_ = -1;
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void Kernel::yield() {
  if (current_ == -1) throw SimError("yield() called outside a coroutine");
  Coroutine& co = *coroutines_[static_cast<std::size_t>(current_)];
  sc_->driver_ev->notify();
  sc_core::wait(*co.resume_ev);
  if (stopping_) throw CoroutineExit{};
}

bool Kernel::try_advance(Tick t) {
  if (!decoupling_ || t <= now_ || t > end_ || stopping_) return false;
  if (!queue_.empty() && queue_.begin()->first.time <= t) return false;
  now_ = t;
  ++inline_advances_;
  return true;
}

void Kernel::drive() {
  sc_core::wait(sc_core::SC_ZERO_TIME);  // every coroutine thread reaches its first wait
  try {
    while (!queue_.empty()) {
      auto it = queue_.begin();
      if (it->first.time > end_) break;
      if (it->first.time > synced_) {
        sc_core::wait(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(it->first.time - synced_)));
        synced_ = it->first.time;
      }
      now_ = it->first.time;
      auto fn = std::move(it->second);
      queue_.erase(it);
      ++events_processed_;
      fn();
    }
    if (end_ > synced_) {
      sc_core::wait(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(end_ - synced_)));
      synced_ = end_;
    }
    now_ = end_;
  } catch (...) {
    error_ = std::current_exception();
  }
  // Unwind every suspended coroutine so the objects on its stack are destroyed.
  stopping_ = true;
  for (std::size_t i = 0; i < coroutines_.size(); ++i) {
    Coroutine& co = *coroutines_[i];
    if (co.finished) continue;
    current_ = static_cast<int>(i);
    co.resume_ev->notify();
    sc_core::wait(*sc_->driver_ev);
    current_ = -1;
  }
  sc_core::sc_stop();
}

void Kernel::run(Tick end) {
  if (sc_) throw SimError("Kernel::run() may be called once");
  end_ = end;
  sc_ = std::make_unique<SystemC>();
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_->context = new sc_core::sc_simcontext;
  sc_core::sc_curr_simcontext = sc_->context;
  sc_core::sc_default_global_context = sc_->context;
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_->driver_ev = std::make_unique<sc_core::sc_event>();
  sc_core::sc_spawn_options options;
  options.set_stack_size(kCoroutineStackBytes);
  for (auto& co : coroutines_) {
    co->resume_ev = std::make_unique<sc_core::sc_event>();
    Coroutine* raw = co.get();
    sc_core::sc_spawn([this, raw] { coroutine_main(*raw); }, co->name.c_str(), &options);
  }
  sc_core::sc_spawn([this] { drive(); }, "vcpusim_driver", &options);
  sc_core::sc_start();
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace vcpusim::sim
