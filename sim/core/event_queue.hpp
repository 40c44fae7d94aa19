// The kernel's pending events, in EventKey order. Many pCPUs running in lockstep make a dozen or
// more events due at each instant, and a heap of keys spent its time breaking those ties. Here
// each pending instant has a bucket: its keys in ascending order, inserted from the back (they
// mostly arrive in order), handed out from the front without sifting. Only the instants are kept
// in a 4-ary heap, by time alone, and an index finds an instant's bucket for a push. The
// callbacks live in a slab of slots; a slot is reused once its event ran or was cancelled, so a
// steady run allocates nothing per event. Cancel is O(1): the slot is freed and the key, whose
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
  std::uint8_t lane = 0;   // which of the kernel's queues holds it (Kernel::Lane; not the order)
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
    insert(bucket_for(key.time), key);
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

  // Removes a pending plain-call event (only those are ever transparent) and hands back its call,
  // to be pushed again under the same key (Kernel::make_barrier moves an event between queues
  // without changing its order).
  EventCall take(const EventKey& key) {
    const EventCall call = slots_[key.slot].call;
    release(key.slot);
    --live_;
    return call;
  }
  bool holds(const EventKey& key) const {
    return key.slot < slots_.size() && slots_[key.slot].seq == key.seq;
  }

  bool empty() const { return live_ == 0; }
  // The earliest live event; the queue must not be empty.
  const EventKey& top() {
    if (stale(front())) drop_stale();  // rare: a cancelled event reached the front
    return front();
  }
  // Removes the earliest live event and hands back its callback, to be called once (a queued
  // std::function leaves the queue when it is called).
  EventCall pop() {
    if (stale(front())) drop_stale();
    Bucket& b = buckets_[instants_.front().bucket];
    const std::uint32_t s = b.keys[b.head].slot;
    if (++b.head == b.keys.size()) release_front();
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
  // The keys of one instant in ascending order; keys[head..] are pending, never none.
  struct Bucket {
    std::vector<EventKey> keys;
    std::size_t head = 0;
  };
  // A pending instant, in the heap of instants and in the index.
  struct Instant {
    Tick time = 0;
    std::uint32_t bucket = kNone;  // kNone: a free index entry
  };
  static constexpr std::uint32_t kNone = UINT32_MAX;
  static constexpr std::size_t kArity = 4;

  const EventKey& front() const {
    const Bucket& b = buckets_[instants_.front().bucket];
    return b.keys[b.head];
  }
  // Sorted insertion from the back: keys mostly come after the bucket's last one.
  static void insert(Bucket& b, const EventKey& key) {
    std::vector<EventKey>& v = b.keys;
    v.push_back(key);
    std::size_t j = v.size() - 1;
    while (j > b.head && key < v[j - 1]) {
      v[j] = v[j - 1];
      --j;
    }
    v[j] = key;
  }
  Bucket& bucket_for(Tick t) {
    if (t == last_time_ && last_bucket_ != kNone) return buckets_[last_bucket_];
    if (2 * (indexed_ + 1) > index_.size()) grow_index();
    std::size_t i = home(t);
    while (index_[i].bucket != kNone && index_[i].time != t) i = (i + 1) & mask_;
    if (index_[i].bucket == kNone) {
      std::uint32_t b;
      if (!free_buckets_.empty()) {
        b = free_buckets_.back();
        free_buckets_.pop_back();
      } else {
        b = static_cast<std::uint32_t>(buckets_.size());
        buckets_.emplace_back();
      }
      index_[i] = Instant{t, b};
      ++indexed_;
      instants_.push_back(index_[i]);
      heap_detail::sift_up<kArity>(instants_, instants_.size() - 1, InstantLess{});
    }
    last_time_ = t;
    last_bucket_ = index_[i].bucket;
    return buckets_[last_bucket_];
  }
  // The earliest instant's bucket ran out: it leaves the heap and the index.
  void release_front() {
    const Instant front = instants_.front();
    Bucket& b = buckets_[front.bucket];
    b.keys.clear();
    b.head = 0;
    free_buckets_.push_back(front.bucket);
    if (last_bucket_ == front.bucket) last_bucket_ = kNone;
    unindex(front.time);
    instants_.front() = instants_.back();
    instants_.pop_back();
    if (!instants_.empty()) heap_detail::sift_down<kArity>(instants_, 0, InstantLess{});
  }

  // The index: open addressing with linear probing, at most half full.
  std::size_t home(Tick t) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(t) * 0x9E3779B97F4A7C15ull) >>
                                    shift_);
  }
  void grow_index() {
    std::vector<Instant> old = std::move(index_);
    index_.assign(old.empty() ? 64 : old.size() * 2, Instant{});
    mask_ = index_.size() - 1;
    shift_ = 64;
    for (std::size_t n = index_.size(); n > 1; n >>= 1) --shift_;
    for (const Instant& e : old)
      if (e.bucket != kNone) {
        std::size_t i = home(e.time);
        while (index_[i].bucket != kNone) i = (i + 1) & mask_;
        index_[i] = e;
      }
  }
  // Removes t, moving back the entries after it that its slot kept from their home (Knuth's
  // algorithm R), so a lookup never needs tombstones.
  void unindex(Tick t) {
    std::size_t i = home(t);
    while (index_[i].time != t || index_[i].bucket == kNone) i = (i + 1) & mask_;
    --indexed_;
    for (;;) {
      index_[i].bucket = kNone;
      std::size_t j = i;
      for (;;) {
        j = (j + 1) & mask_;
        if (index_[j].bucket == kNone) return;
        const std::size_t h = home(index_[j].time);
        const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
          index_[i] = index_[j];
          i = j;
          break;
        }
      }
    }
  }

  struct InstantLess {
    bool operator()(const Instant& a, const Instant& b) const { return a.time < b.time; }
  };

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
  // Out of line, so that top() stays small enough to inline into Kernel::try_advance.
  __attribute__((noinline)) void drop_stale() {
    for (;;) {
      Bucket& b = buckets_[instants_.front().bucket];
      if (!stale(b.keys[b.head])) return;
      if (++b.head == b.keys.size()) release_front();
    }
  }

  std::vector<Instant> instants_;  // a heap by time
  std::vector<Bucket> buckets_;
  std::vector<std::uint32_t> free_buckets_;
  std::vector<Instant> index_;
  std::size_t indexed_ = 0;
  std::size_t mask_ = 0;
  int shift_ = 64;
  Tick last_time_ = -1;  // the instant of the last push, and its bucket: the next often shares it
  std::uint32_t last_bucket_ = kNone;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<std::function<void()>> functions_;
  std::vector<std::uint32_t> free_functions_;
  std::size_t live_ = 0;
};

}  // namespace vcpusim::sim
