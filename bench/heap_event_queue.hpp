// The benchmark's baseline: sim/core/event_queue.hpp as it was before issue 30, every event a
// std::function, every key in one 4-ary heap (bench/event_queue_bench.cpp measures the runs
// against it). Kept verbatim but for its name: a 4-ary heap of small keys over a slab of
// callbacks. A slot is reused once its event ran or was cancelled, so a steady run allocates
// nothing per event (a std::map paid a node per event); cancel is O(1): the slot is freed and its
// heap entry, whose sequence no longer matches the slot's, is skipped when it reaches the top.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/time.hpp"

namespace vcpusim::bench {

using sim::EventKey;

class HeapEventQueue {
 public:
  // `key.seq` must be unique and non-zero; fills in key.slot.
  void push(EventKey& key, std::function<void()> fn) {
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
    slots_[s].fn = std::move(fn);
    heap_.push_back(key);
    sift_up(heap_.size() - 1);
    ++live_;
  }

  // False when the event already ran or was cancelled.
  bool cancel(const EventKey& key) {
    if (key.slot >= slots_.size() || slots_[key.slot].seq != key.seq) return false;
    release(key.slot);
    --live_;
    return true;
  }

  bool empty() const { return live_ == 0; }
  // The earliest live event; the queue must not be empty.
  const EventKey& top() {
    if (stale(heap_.front())) drop_stale();  // rare: a cancelled event reached the top
    return heap_.front();
  }
  // Removes the earliest live event and hands back its callback.
  std::function<void()> pop() {
    drop_stale();
    const std::uint32_t s = heap_.front().slot;
    std::function<void()> fn = std::move(slots_[s].fn);
    release(s);
    --live_;
    remove_top();
    return fn;
  }

 private:
  struct Slot {
    std::uint64_t seq = 0;  // 0: free
    std::function<void()> fn;
  };
  static constexpr std::size_t kArity = 4;

  void release(std::uint32_t s) {
    slots_[s].seq = 0;
    slots_[s].fn = nullptr;
    free_.push_back(s);
  }
  bool stale(const EventKey& k) const { return slots_[k.slot].seq != k.seq; }
  // Out of line, so that top() stays small enough to inline into Kernel::try_advance.
  __attribute__((noinline)) void drop_stale() {
    while (stale(heap_.front())) remove_top();
  }
  void remove_top() {
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
  }
  void sift_up(std::size_t i) {
    EventKey k = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!(k < heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = k;
  }
  void sift_down(std::size_t i) {
    const std::size_t n = heap_.size();
    EventKey k = heap_[i];
    for (;;) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t last = std::min(first + kArity, n);
      for (std::size_t c = first + 1; c < last; ++c)
        if (heap_[c] < heap_[best]) best = c;
      if (!(heap_[best] < k)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = k;
  }

  std::vector<EventKey> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
};

}  // namespace vcpusim::bench
