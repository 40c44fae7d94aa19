// The kernel's pending events, in EventKey order. Many pCPUs running in lockstep push long
// streams of events for one instant in ascending key order (each instant's events re-arm
// themselves in the order they ran), so most keys are kept in runs: sorted arrays of one instant,
// appended at the back and handed out from the front without any sifting. A push that cannot
// extend the open run of its instant goes to a small 4-ary heap instead. A pop takes the smaller
// of the heap's top and the first key of the earliest run (a binary heap of runs by first key).
// The callbacks live in a slab of slots; a slot is reused once its event ran or was cancelled, so
// a steady run allocates nothing per event. Cancel is O(1): the slot is freed and the key, whose
// sequence no longer matches the slot's, is skipped when it reaches the front.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace vcpusim::sim {

// Tie-break order at equal time (ns-3's EventKey): phase, then component id, then sequence.
struct EventKey {
  Tick time = 0;
  int phase = 0;
  int component = 0;
  std::uint64_t seq = 0;
  std::uint32_t slot = 0;  // where its callback lives (not part of the order)
  bool operator<(const EventKey& o) const {
    if (time != o.time) return time < o.time;
    if (phase != o.phase) return phase < o.phase;
    if (component != o.component) return component < o.component;
    return seq < o.seq;
  }
  bool valid() const { return seq != 0; }
};

// What an event runs: a plain function of an object and an argument. The hot events use it
// directly (no type-erased move per event, as a std::function costs); any other callable is
// kept in the queue and run through one of these.
struct EventCall {
  void (*fn)(void* object, std::uint64_t arg) = nullptr;
  void* object = nullptr;
  std::uint64_t arg = 0;
  void operator()() const { fn(object, arg); }

  // Calls object->Method(arg).
  template <auto Method, class T>
  static EventCall member(T* object, std::uint64_t arg = 0) {
    return {[](void* o, std::uint64_t a) { (static_cast<T*>(o)->*Method)(a); }, object, arg};
  }
};

namespace heap_detail {

template <std::size_t Arity, class T, class Less>
void sift_up(std::vector<T>& h, std::size_t i, Less less) {
  T k = h[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / Arity;
    if (!less(k, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = k;
}

template <std::size_t Arity, class T, class Less>
void sift_down(std::vector<T>& h, std::size_t i, Less less) {
  const std::size_t n = h.size();
  T k = h[i];
  for (;;) {
    const std::size_t first = i * Arity + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t last = first + Arity < n ? first + Arity : n;
    for (std::size_t c = first + 1; c < last; ++c)
      if (less(h[c], h[best])) best = c;
    if (!less(h[best], k)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = k;
}

}  // namespace heap_detail

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;  // a queued std::function's EventCall points here
  EventQueue& operator=(const EventQueue&) = delete;

  // `key.seq` must be unique and non-zero; fills in key.slot.
  void push(EventKey& key, EventCall call) {
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    key.slot = s;
    slots_[s].seq = key.seq;
    slots_[s].call = call;
    place(key);
    ++live_;
  }
  void push(EventKey& key, std::function<void()> fn) {
    std::uint32_t f;
    if (!free_functions_.empty()) {
      f = free_functions_.back();
      free_functions_.pop_back();
    } else {
      f = static_cast<std::uint32_t>(functions_.size());
      functions_.emplace_back();
    }
    functions_[f] = std::move(fn);
    push(key, EventCall{&run_function, this, f});
  }

  // False when the event already ran or was cancelled.
  bool cancel(const EventKey& key) {
    if (key.slot >= slots_.size() || slots_[key.slot].seq != key.seq) return false;
    const EventCall& call = slots_[key.slot].call;
    if (call.fn == &run_function) release_function(static_cast<std::uint32_t>(call.arg));
    release(key.slot);
    --live_;
    return true;
  }

  bool empty() const { return live_ == 0; }
  // The earliest live event; the queue must not be empty.
  const EventKey& top() {
    if (stale_front()) drop_stale();  // rare: a cancelled event reached a front
    return from_runs() ? run_heap_.front().first : heap_.front();
  }
  // Removes the earliest live event and hands back its callback, to be called once (a queued
  // std::function leaves the queue when it is called).
  EventCall pop() {
    if (stale_front()) drop_stale();
    std::uint32_t s;
    if (from_runs()) {
      s = run_heap_.front().first.slot;
      advance_run();
    } else {
      s = heap_.front().slot;
      remove_top();
    }
    const EventCall call = slots_[s].call;
    release(s);
    --live_;
    return call;
  }

 private:
  struct Slot {
    std::uint64_t seq = 0;  // 0: free
    EventCall call;
  };
  // Keys of one instant in ascending order; keys[head..] are pending.
  struct Run {
    std::vector<EventKey> keys;
    std::size_t head = 0;
  };
  // A run in the run heap, by its first pending key (a copy: no indirection to compare).
  struct RunRef {
    EventKey first;
    std::uint32_t run;
  };
  // The run that pushes at an instant extend; kNoRun: the next push at that instant opens one.
  struct Open {
    Tick time = -1;
    std::uint32_t run = kNoRun;
  };
  static constexpr std::uint32_t kNoRun = UINT32_MAX;
  static constexpr std::size_t kArity = 4;
  static constexpr int kOpenBits = 6;

  // Types, not function pointers, so that the comparisons inline into the sifts.
  struct KeyLess {
    bool operator()(const EventKey& a, const EventKey& b) const { return a < b; }
  };
  struct RunLess {
    bool operator()(const RunRef& a, const RunRef& b) const { return a.first < b.first; }
  };
  static std::size_t open_index(Tick t) {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(t) * 0x9E3779B97F4A7C15ull) >>
                                    (64 - kOpenBits));
  }

  // Extends the open run of key.time when key comes after its last key; the first push at an
  // instant, and one that arrives out of order, go to the heap (and the next one opens a run).
  void place(const EventKey& key) {
    Open& o = open_[open_index(key.time)];
    if (o.time == key.time) {
      if (o.run != kNoRun) {
        Run& r = runs_[o.run];
        if (r.keys.back() < key) {
          r.keys.push_back(key);
          return;
        }
        o.run = kNoRun;
      } else {
        o.run = open_run(key);
        return;
      }
    } else {
      o.time = key.time;
      o.run = kNoRun;
    }
    heap_.push_back(key);
    heap_detail::sift_up<kArity>(heap_, heap_.size() - 1, KeyLess{});
  }
  std::uint32_t open_run(const EventKey& key) {
    std::uint32_t r;
    if (!free_runs_.empty()) {
      r = free_runs_.back();
      free_runs_.pop_back();
    } else {
      r = static_cast<std::uint32_t>(runs_.size());
      runs_.emplace_back();
    }
    runs_[r].keys.push_back(key);
    run_heap_.push_back(RunRef{key, r});
    heap_detail::sift_up<2>(run_heap_, run_heap_.size() - 1, RunLess{});
    return r;
  }
  // Hands out the first key of the earliest run.
  void advance_run() {
    const std::uint32_t id = run_heap_.front().run;
    Run& r = runs_[id];
    if (++r.head < r.keys.size()) {
      run_heap_.front().first = r.keys[r.head];
      heap_detail::sift_down<2>(run_heap_, 0, RunLess{});
      return;
    }
    Open& o = open_[open_index(r.keys.front().time)];
    if (o.run == id) o.run = kNoRun;
    r.keys.clear();
    r.head = 0;
    free_runs_.push_back(id);
    run_heap_.front() = run_heap_.back();
    run_heap_.pop_back();
    if (!run_heap_.empty()) heap_detail::sift_down<2>(run_heap_, 0, RunLess{});
  }

  bool from_runs() const {
    return !run_heap_.empty() && (heap_.empty() || run_heap_.front().first < heap_.front());
  }
  void release(std::uint32_t s) {
    slots_[s].seq = 0;
    free_.push_back(s);
  }
  void release_function(std::uint32_t f) {
    functions_[f] = nullptr;
    free_functions_.push_back(f);
  }
  static void run_function(void* queue, std::uint64_t f) {
    auto& q = *static_cast<EventQueue*>(queue);
    std::function<void()> fn = std::move(q.functions_[f]);
    q.release_function(static_cast<std::uint32_t>(f));
    fn();
  }
  bool stale(const EventKey& k) const { return slots_[k.slot].seq != k.seq; }
  bool stale_front() const {
    return (!heap_.empty() && stale(heap_.front())) ||
           (!run_heap_.empty() && stale(run_heap_.front().first));
  }
  // Out of line, so that top() stays small enough to inline into Kernel::try_advance.
  __attribute__((noinline)) void drop_stale() {
    while (!heap_.empty() && stale(heap_.front())) remove_top();
    while (!run_heap_.empty() && stale(run_heap_.front().first)) advance_run();
  }
  void remove_top() {
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) heap_detail::sift_down<kArity>(heap_, 0, KeyLess{});
  }

  std::vector<EventKey> heap_;
  std::vector<Run> runs_;
  std::vector<RunRef> run_heap_;
  std::vector<std::uint32_t> free_runs_;
  std::array<Open, std::size_t{1} << kOpenBits> open_{};
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<std::function<void()>> functions_;
  std::vector<std::uint32_t> free_functions_;
  std::size_t live_ = 0;
};

}  // namespace vcpusim::sim
