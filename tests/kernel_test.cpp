#include "sim/core/kernel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/error.hpp"

using namespace vcpusim::sim;

TEST(Kernel, OrdersEventsByTimePhaseComponentSequence) {
  Kernel k;
  std::vector<std::string> order;
  k.at(10, Phase::kWork, 5, [&] { order.push_back("t10 work c5"); });
  k.at(10, Phase::kHost, 9, [&] { order.push_back("t10 host c9"); });
  k.at(5, Phase::kCheck, 0, [&] { order.push_back("t5"); });
  k.at(10, Phase::kWork, 1, [&] { order.push_back("t10 work c1 a"); });
  k.at(10, Phase::kWork, 1, [&] { order.push_back("t10 work c1 b"); });
  k.run(100);
  EXPECT_EQ(order, (std::vector<std::string>{"t5", "t10 host c9", "t10 work c1 a", "t10 work c1 b",
                                             "t10 work c5"}));
  EXPECT_EQ(k.now(), 100);
}

TEST(Kernel, CancelledEventsDoNotRun) {
  Kernel k;
  int ran = 0;
  EventKey e = k.at(10, Phase::kWork, 0, [&] { ++ran; });
  k.at(5, Phase::kWork, 0, [&] { EXPECT_TRUE(k.cancel(e)); });
  k.run(100);
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(e.valid());
}

TEST(Kernel, CoroutinesRunOnlyWhenResumedAndSeeSimulatedTime) {
  Kernel k;
  std::vector<Tick> seen;
  const int co = k.spawn("co", [&] {
    for (;;) {
      seen.push_back(k.now());
      k.yield();
    }
  });
  for (Tick t : {Tick{3}, Tick{7}, Tick{20}}) k.at(t, Phase::kWork, 0, [&, co] { k.resume(co); });
  k.run(50);
  EXPECT_EQ(seen, (std::vector<Tick>{3, 7, 20}));
}

TEST(Kernel, ExceptionInACoroutineEndsTheRun) {
  Kernel k;
  const int co = k.spawn("co", [] { throw SimError("model broke"); });
  k.at(1, Phase::kWork, 0, [&, co] { k.resume(co); });
  EXPECT_THROW(k.run(10), SimError);
}

TEST(Kernel, StuckInTimeIsAHardError) {
  Kernel k;
  const int co = k.spawn("spinner", [&] {
    for (;;) k.yield();
  });
  // Resumes at the same instant forever: no simulated time ever passes.
  std::function<void()> again = [&] {
    k.resume(co);
    k.at(k.now(), Phase::kWork, 0, again);
  };
  k.at(1, Phase::kWork, 0, again);
  try {
    k.run(10);
    FAIL() << "expected a stuck-in-time error";
  } catch (const SimError& e) {
    EXPECT_NE(std::string(e.what()).find("stuck in time"), std::string::npos) << e.what();
  }
}

// A guest that only ever advances inline (no event between its operations) is still bounded by
// the step budget: it stops at exactly the budget, at the same simulated time every run.
TEST(Kernel, StepBudgetStopsEvenAnInlineOnlyRunAtExactlyItsSteps) {
  Kernel k;
  k.set_step_budget(1000);
  int co = -1;
  co = k.spawn("runner", [&] {
    for (;;) {
      if (k.try_advance(k.now() + 1)) continue;  // as Vcpu::consume: inline, else an event
      k.at(k.now() + 1, Phase::kWork, 0, [&] { k.resume(co); });
      k.yield();
    }
  });
  k.at(0, Phase::kWork, 0, [&] { k.resume(co); });
  k.run(kSecond);
  EXPECT_TRUE(k.interrupted());
  EXPECT_TRUE(k.budget_exceeded());
  EXPECT_EQ(k.steps(), 1000u);
  EXPECT_EQ(k.events_processed(), 1u);  // the start; the other 999 steps were inline
  EXPECT_EQ(k.now(), 999);
}
