// The guest coroutines' stack switching (sim/core/fiber.hpp) and what the kernel builds on it:
// order of hand-offs, many coroutines interleaved, deep stacks, and every suspended body unwound at
// the end.
#include "sim/core/fiber.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/kernel.hpp"
#include "sim/core/stack_pool.hpp"

using namespace vcpusim::sim;

namespace {

TEST(Fiber, ResumeAndSuspendHandControlBackAndForthInOrder) {
  std::vector<std::string> log;
  Fiber* self = nullptr;
  Fiber f(
      [&] {
        log.push_back("f1");
        self->suspend();
        log.push_back("f2");
        self->suspend();
        log.push_back("f3");
      },
      64 * 1024);
  self = &f;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(f.finished());
    log.push_back("d" + std::to_string(i));
    f.resume();
  }
  EXPECT_TRUE(f.finished());
  EXPECT_EQ(log, (std::vector<std::string>{"d1", "f1", "d2", "f2", "d3", "f3"}));
}

// Each fiber keeps its own stack: locals survive while a thousand others run in between.
TEST(Fiber, AThousandFibersKeepTheirOwnLocals) {
  constexpr int kFibers = 1000;
  constexpr int kRounds = 5;
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<long> sums(kFibers, 0);
  for (int i = 0; i < kFibers; ++i) {
    fibers.push_back(std::make_unique<Fiber>(
        [&, i] {
          long local = i;
          for (int r = 0; r < kRounds; ++r) {
            sums[static_cast<std::size_t>(i)] += local;
            local += kFibers;
            fibers[static_cast<std::size_t>(i)]->suspend();
          }
        },
        64 * 1024, static_cast<std::size_t>(i)));  // each stack shifted by its own colour
  }
  for (int r = 0; r <= kRounds; ++r)
    for (auto& f : fibers) f->resume();
  for (int i = 0; i < kFibers; ++i) {
    EXPECT_TRUE(fibers[static_cast<std::size_t>(i)]->finished());
    // i + (i + N) + ... + (i + (R-1) N)
    EXPECT_EQ(sums[static_cast<std::size_t>(i)],
              long{kRounds} * i + long{kFibers} * kRounds * (kRounds - 1) / 2);
  }
}

// Guest handlers nest on one stack: a few hundred kilobytes of frames must fit, across a switch.
TEST(Fiber, DeepFramesSurviveASwitch) {
  int result = -1;
  Fiber* self = nullptr;
  Fiber f(
      [&] {
        struct Deep {
          static int go(Fiber* s, int n) {
            volatile char frame[512];
            frame[0] = 1;
            if (n == 0) {
              s->suspend();
              return frame[0];
            }
            return go(s, n - 1) + frame[0];
          }
        };
        result = Deep::go(self, 400);  // about 200 KiB
      },
      1 << 20);
  self = &f;
  f.resume();
  EXPECT_EQ(result, -1);
  f.resume();
  EXPECT_EQ(result, 401);
}

// A coroutine suspended when the run ends is unwound: the objects on its stack are destroyed.
TEST(Kernel, SuspendedCoroutinesAreUnwoundWhenTheRunEnds) {
  struct Guard {
    int& destroyed;
    ~Guard() { ++destroyed; }
  };
  int destroyed = 0;
  int started = 0;
  {
    Kernel k;
    for (int i = 0; i < 3; ++i) {
      const int co = k.spawn("co" + std::to_string(i), [&] {
        Guard g{destroyed};
        ++started;
        for (;;) k.yield();
      });
      if (i < 2) k.at(1 + i, Phase::kWork, 0, [&k, co] { k.resume(co); });  // the third never runs
    }
    k.run(10);
    EXPECT_EQ(started, 2);
    EXPECT_EQ(destroyed, 2);
  }
  EXPECT_EQ(destroyed, 2);
}

// A pool hands a finished fiber's stack to the next fiber of the same size, mapped as it was.
TEST(StackPool, AFinishedFibersStackIsTheNextFibersStack) {
  StackPool pool;
  const char* first = nullptr;
  {
    Fiber f([] {}, 64 * 1024, 0, &pool);
    first = f.stack_low();
    f.resume();
    EXPECT_TRUE(f.finished());
  }
  EXPECT_EQ(pool.kept(), 1u);
  {
    Fiber again([] {}, 64 * 1024, 5, &pool);
    EXPECT_EQ(again.stack_low(), first);
    EXPECT_EQ(pool.kept(), 0u);
    Fiber bigger([] {}, 128 * 1024, 0, &pool);  // no kept stack of its size: a fresh one
    EXPECT_NE(bigger.stack_low(), first);
    again.resume();
    bigger.resume();
  }
  EXPECT_EQ(pool.kept(), 2u);
}

// Runs in a row that share a pool run on the first run's stacks and keep no more than it did.
TEST(StackPool, KernelsInARowReuseTheFirstRunsStacks) {
  StackPool pool;
  std::vector<std::vector<const char*>> stacks(2);
  for (int run = 0; run < 2; ++run) {
    Kernel k;
    k.use_stacks(&pool);
    for (int i = 0; i < 3; ++i) {
      const int co = k.spawn("co" + std::to_string(i), [&k, &stacks, run] {
        stacks[static_cast<std::size_t>(run)].push_back(k.running_stack().first);
        for (;;) k.yield();
      });
      k.at(1 + i, Phase::kWork, 0, [&k, co] { k.resume(co); });
    }
    k.run(10);
    EXPECT_EQ(stacks[static_cast<std::size_t>(run)].size(), 3u);
  }
  EXPECT_EQ(pool.kept(), 3u);
  std::sort(stacks[0].begin(), stacks[0].end());
  std::sort(stacks[1].begin(), stacks[1].end());
  EXPECT_EQ(stacks[0], stacks[1]);
}

}  // namespace
