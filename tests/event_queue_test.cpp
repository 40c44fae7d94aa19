// The event queue against an ordered set of the same keys: whatever mix of pushes, cancels (of
// live, run and already cancelled events) and pops, both give the same order.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "sim/event_queue.hpp"
#include "sim/rng.hpp"

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

}  // namespace
}  // namespace vcpusim::sim
