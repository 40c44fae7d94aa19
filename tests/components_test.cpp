// Components get ids, names and stream keys by registering (sim/record/components.hpp).
#include "sim/record/components.hpp"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "rig.hpp"
#include "sim/error.hpp"

using namespace vcpusim;

TEST(Components, IdsFollowRegistrationOrderAndNamesAreUnique) {
  sim::Components c;
  EXPECT_EQ(c.add("pcpu0", "pcpu", 0), 0);
  EXPECT_EQ(c.add("vcpu0", "vcpu", 0), 1);
  EXPECT_EQ(c.find("vcpu0"), 1);
  EXPECT_EQ(c.find("vcpu9"), -1);
  EXPECT_EQ(c.at(1).group, "vcpu");
  EXPECT_THROW(c.add("vcpu0", "load", 3), sim::SimError);
  EXPECT_THROW(c.at(2), sim::SimError);
}

// FNV-1a 64 reference values: the key must not depend on the build or the standard library.
TEST(Components, StreamKeyIsTheFnv1aHashOfTheName) {
  EXPECT_EQ(sim::stable_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(sim::stable_hash("a"), 0xaf63dc4c8601ec8cULL);
  sim::Components c;
  c.add("load0", "load");
  EXPECT_EQ(c.key(0), sim::stable_hash("load0"));
}

// A component's draws depend on its name only: registered at another position (another id), it
// draws the same sequence.
TEST(Components, DrawsFollowTheNameNotTheId) {
  sim::Components first, later;
  first.add("load0", "load");
  later.add("pcpu0", "pcpu");
  later.add("vcpu0", "vcpu");
  later.add("load0", "load");
  sim::RandomDecisionSource a(7, first), b(7, later);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(a.exponential(0, 0, "x", 1000000), b.exponential(0, 2, "x", 1000000));
}

namespace {

struct LoadWindows {
  int load_component;
  std::vector<std::tuple<sim::Tick, std::string, std::int64_t>> draws;
  std::vector<std::pair<sim::Tick, std::string>> wake_sleep;
};

// 2 pCPUs, a poisson load on pCPU 0, `vcpus` vCPUs of which vCPU0 computes and the rest halt.
LoadWindows run_with(int vcpus) {
  test::Rig rig(2, vcpus);
  auto& load = rig.add_load(cpu::LoadKind::kPoisson, {0});
  load.busy.value = 300 * sim::kMicrosecond;
  load.idle.value = 700 * sim::kMicrosecond;
  rig.kernel.recorder().keep_events(true);
  rig.decisions.keep_log(true);
  auto& m = rig.build();
  rig.body(0, [](cpu::GuestCpu& c) {
    for (;;) c.compute(50 * sim::kMicrosecond);
  });
  rig.run(40 * sim::kMillisecond);
  LoadWindows w;
  const auto& comps = rig.kernel.components();
  w.load_component = comps.find("load0");
  for (const auto& d : m.decisions().log())
    if (d.component == w.load_component) w.draws.emplace_back(d.time, d.what, d.value);
  const std::int64_t load_thread = comps.at(w.load_component).index;
  for (const auto& e : rig.kernel.recorder().events())
    if ((e.kind == "wake" || e.kind == "sleep") && e.a == load_thread)
      w.wake_sleep.emplace_back(e.time, e.kind);
  return w;
}

}  // namespace

// Acceptance (issue 8): adding an idle vCPU renumbers the load's component and thread, but its
// random stream is keyed by its name, so its busy windows stay exactly the same.
TEST(Components, AddingAnIdleVcpuLeavesTheLoadWindowsUnchanged) {
  const LoadWindows one = run_with(1);
  const LoadWindows two = run_with(2);
  EXPECT_NE(one.load_component, two.load_component);  // the id did move
  ASSERT_GT(one.draws.size(), 40u);                   // ~40 windows of 1 ms on average
  EXPECT_EQ(one.draws, two.draws);
  ASSERT_GT(one.wake_sleep.size(), 40u);
  EXPECT_EQ(one.wake_sleep, two.wake_sleep);
}
