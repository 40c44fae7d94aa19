// The event queue against an ordered set of the same keys: whatever mix of pushes, cancels (of
// live, run and already cancelled events) and pops, both give the same order: random times, and
// the lockstep stream of many pCPUs (many ties at each instant, pushes out of order at an
// instant) that the queue's buckets are built for.
#include "sim/core/event_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

#include "sim/core/rng.hpp"

namespace vcpusim::sim {
namespace {

TEST(EventQueue, PopsTheSameOrderAsAnOrderedSetWhateverThePushesAndCancels) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed, 7);
    EventQueue q;
    std::set<EventKey> live;  // the reference
    std::vector<EventKey> handles;
    std::uint64_t seq = 1;
    Tick now = 0;
    std::uint64_t ran = 0;
    std::vector<std::uint64_t> popped;
    auto push = [&] {
      // Mostly near events (a vCPU re-arming itself), some far ones (timers), some ties.
      const std::uint64_t r = rng.below(10);
      const Tick when = now + (r < 6 ? static_cast<Tick>(rng.below(50))
                               : r < 9 ? static_cast<Tick>(rng.below(5000)) : 0);
      EventKey k{when, static_cast<int>(rng.below(4)), static_cast<int>(rng.below(6)), seq++};
      const std::uint64_t id = k.seq;
      q.push(k, [&popped, id] { popped.push_back(id); });
      live.insert(k);
      handles.push_back(k);
    };
    for (int i = 0; i < 20; ++i) push();
    for (int step = 0; step < 4000; ++step) {
      const std::uint64_t r = rng.below(10);
      if (r < 2 && !handles.empty()) {
        EventKey& h = handles[rng.below(handles.size())];
        const bool is_live = live.count(h) > 0;
        EXPECT_EQ(q.cancel(h), is_live);
        live.erase(h);
      } else if (r < 7) {
        ASSERT_EQ(q.empty(), live.empty());
        if (live.empty()) {
          push();
          continue;
        }
        const EventKey expected = *live.begin();
        ASSERT_EQ(q.top().time, expected.time) << "seed " << seed << " step " << step;
        now = expected.time;
        live.erase(live.begin());
        q.pop()();
        ++ran;
        ASSERT_EQ(popped.back(), expected.seq) << "seed " << seed << " step " << step;
        // What a running event does: look at the next time (try_advance), then re-arm or not.
        if (!live.empty()) {
          ASSERT_EQ(q.top().time, live.begin()->time);
        }
        if (rng.below(4) != 0) push();
      } else {
        push();
      }
    }
    EXPECT_GT(ran, 1000u);
  }
}

// Components that re-arm themselves one or a few steps ahead, all starting at one instant: most
// pushes come after the last key of their instant, some arrive out of order (a step of another
// length, or an earlier phase at the current instant) and cancels hit queued keys anywhere.
TEST(EventQueue, PopsTheSameOrderAsAnOrderedSetInLockstep) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    Rng rng(seed, 11);
    EventQueue q;
    std::set<EventKey> live;
    std::vector<EventKey> handles;
    const int components = 1 + static_cast<int>(rng.below(300));
    const Tick steps[] = {200, 1000, 1200};
    std::uint64_t seq = 1;
    std::uint64_t popped = 0;
    std::uint64_t expected_seq = 0;
    Tick now = 0;
    auto push = [&](Tick when, int phase, int component) {
      EventKey k{when, phase, component, seq++};
      const std::uint64_t id = k.seq;
      q.push(k, EventCall{[](void* p, std::uint64_t a) { *static_cast<std::uint64_t*>(p) = a; },
                          &popped, id});
      live.insert(k);
      handles.push_back(k);
    };
    for (int c = 0; c < components; ++c) push(0, 2, c);
    std::uint64_t ran = 0;
    for (int step = 0; step < 20000 && !live.empty(); ++step) {
      if (rng.below(20) == 0 && !handles.empty()) {
        EventKey& h = handles[rng.below(handles.size())];
        EXPECT_EQ(q.cancel(h), live.erase(h) > 0);
        if (live.empty()) break;
        continue;
      }
      ASSERT_FALSE(q.empty());
      const EventKey expected = *live.begin();
      ASSERT_EQ(q.top().seq, expected.seq) << "seed " << seed << " step " << step;
      live.erase(live.begin());
      now = expected.time;
      q.pop()();
      ++ran;
      ASSERT_EQ(popped, expected.seq) << "seed " << seed << " step " << step;
      expected_seq = expected.seq;
      const std::uint64_t r = rng.below(100);
      push(now + steps[r < 60 ? 0 : r < 85 ? 1 : 2], 2, expected.component);
      if (r < 8)
        push(now, static_cast<int>(rng.below(4)), static_cast<int>(rng.below(components)));
      else if (r < 12)
        push(now + static_cast<Tick>(rng.below(100000)), 1, expected.component);
      else if (r < 14)
        push(now + 1000, 0, static_cast<int>(rng.below(components)));
    }
    EXPECT_EQ(q.empty(), live.empty());
    EXPECT_GT(ran, 15000u) << "seed " << seed << " last " << expected_seq;
  }
}

// A queued std::function runs once, through the queue's own EventCall; a cancelled one is
// destroyed at once (what it captured is let go) and never runs.
TEST(EventQueue, QueuedFunctionsRunOnceAndCancelledOnesAreDestroyed) {
  EventQueue q;
  auto token = std::make_shared<int>(0);
  int runs = 0;
  EventKey a{10, 0, 0, 1};
  EventKey b{5, 0, 0, 2};
  q.push(a, [token, &runs] { runs += 1 + *token; });
  q.push(b, [token, &runs] { runs += 100; });
  EXPECT_EQ(token.use_count(), 3);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_EQ(token.use_count(), 2);
  EXPECT_FALSE(q.cancel(b));
  EXPECT_EQ(q.top().seq, 1u);
  q.pop()();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace vcpusim::sim
