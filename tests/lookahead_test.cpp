// Lookahead (sim::Kernel::try_lookahead, cpu/vm/footprint.hpp, docs/lookahead.md): a task that
// declared a private footprint runs ahead of other tasks' transparent events, and nothing
// observable changes. Each test is a setup, per-vCPU bodies, and the expected result; the
// violations show that a declaration which lies is caught, not believed.
#include <gtest/gtest.h>

#include <string>

#include "cpu/vm/footprint.hpp"
#include "cpu/vm/guest_api.hpp"
#include "rig.hpp"
#include "sim/error.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;

namespace {

constexpr sim::Tick ns = sim::kNanosecond;
constexpr sim::Tick us = sim::kMicrosecond;

// What a run shows: the fingerprint of everything recorded, the final words, and the evidence.
struct Outcome {
  std::string fingerprint;
  std::uint64_t a = 0, b = 0;
  std::uint64_t events = 0, ahead = 0;
  std::string error;
};

// Two vCPUs on their own pCPUs. vCPU0 computes and counts in its own word `a`; vCPU1 computes,
// counts in `b` and records each pass (after its order point). Each declares its footprint, and
// both are private; `misbehave` runs once per pass on vCPU0, beyond what it declared.
Outcome run_pair(bool lookahead, const std::function<void(cpu::GuestCpu&, cpu::Word&)>& misbehave,
                 bool verify = false, bool declare_b = true) {
  Rig rig(2, 2);
  cpu::Machine& m = rig.build();
  cpu::Word& a = m.memory().word("a");
  cpu::Word& b = m.memory().word("b");
  cpu::Word& other = m.memory().word("other");
  const cpu::Footprint mine{"counter", {}, {&a}};
  const cpu::Footprint recorder{"recorder", {}, {&b}};
  rig.body(0, [&](cpu::GuestCpu& c) {
    for (;;) {
      c.compute(130 * ns);
      c.store(a, c.load(a) + 1);
      if (misbehave) misbehave(c, other);
    }
  });
  rig.body(1, [&](cpu::GuestCpu& c) {
    for (;;) {
      c.compute(70 * ns);
      const std::uint64_t v = c.load(b) + 1;
      c.store(b, v);
      c.trace("pass", static_cast<std::int64_t>(v));  // trace() waits for its turn itself
      c.order_point();
      rig.kernel.recorder().record(c.now(), m.vcpu(1).component(), "pass", 0);
    }
  });
  m.vcpu(0).declare(0, &mine);
  if (declare_b) m.vcpu(1).declare(0, &recorder);
  rig.kernel.set_lookahead(lookahead);
  m.set_verify_footprints(verify);
  Outcome o;
  try {
    rig.run(200 * us);
  } catch (const sim::SimError& e) {
    o.error = e.what();
  }
  o.fingerprint = rig.kernel.recorder().fingerprint();
  o.a = cpu::MemoryInspector::value(a);
  o.b = cpu::MemoryInspector::value(b);
  o.events = rig.kernel.events_processed();
  o.ahead = rig.kernel.lookahead_steps();
  return o;
}

}  // namespace

// Expected: each vCPU passes the other's pending operations, and the run is the same run.
TEST(Lookahead, APrivateTaskRunsAheadAndNothingObservableChanges) {
  const Outcome on = run_pair(true, nullptr);
  const Outcome off = run_pair(false, nullptr);
  ASSERT_EQ(on.error, "");
  ASSERT_EQ(off.error, "");
  EXPECT_EQ(on.fingerprint, off.fingerprint);
  EXPECT_EQ(on.a, off.a);
  EXPECT_EQ(on.b, off.b);
  // The premise: they did run ahead, so their passes stopped costing events. Off, every
  // operation of both is an event (each always has the other's due first); on, vCPU0's
  // operations run inline (vCPU1's order points still cost one event per pass), so at least its
  // share of the events goes.
  EXPECT_EQ(off.ahead, 0u);
  EXPECT_GT(on.ahead, 0u);
  const std::uint64_t vcpu0_operations = 3 * off.a;  // compute, load, store per pass
  EXPECT_LE(on.events + vcpu0_operations / 2, off.events);
}

// Undeclared code is a barrier: vCPU1 without a footprint, nothing runs ahead of it.
TEST(Lookahead, UndeclaredCodeIsNeverPassed) {
  const Outcome on = run_pair(true, nullptr, false, /*declare_b=*/false);
  ASSERT_EQ(on.error, "");
  EXPECT_EQ(on.ahead, 0u);
  EXPECT_EQ(on.fingerprint, run_pair(false, nullptr, false, false).fingerprint);
}

// A footprint that omits a word the code reads: --verify-footprints names it; an ordinary run
// believes it (nobody else touches that word here, so nothing goes wrong).
TEST(Lookahead, VerifyModeCatchesAWordOutsideTheFootprint) {
  const auto reads_other = [](cpu::GuestCpu& c, cpu::Word& other) { c.load(other); };
  const Outcome verified = run_pair(true, reads_other, /*verify=*/true);
  EXPECT_NE(verified.error.find("footprint violation: vcpu0 (counter) read other"),
            std::string::npos)
      << verified.error;
  EXPECT_EQ(run_pair(true, reads_other).error, "");
}

// A declared task that records without its order point: the record would land out of key
// order, so the run stops with a lookahead violation. Without lookahead the same code is fine,
// and so is the record after an order point.
TEST(Lookahead, ARecordWhileRunningAheadIsAViolation) {
  const auto records = [](cpu::GuestCpu& c, cpu::Word&) {
    c.machine().kernel().recorder().record(c.now(), c.machine().vcpu(0).component(), "oops", 1);
  };
  const Outcome on = run_pair(true, records);
  EXPECT_NE(on.error.find("lookahead violation: vcpu0 recorded \"oops\""), std::string::npos)
      << on.error;
  EXPECT_EQ(run_pair(false, records).error, "");
  const auto in_turn = [&records](cpu::GuestCpu& c, cpu::Word& w) {
    c.order_point();
    records(c, w);
  };
  const Outcome ordered = run_pair(true, in_turn);
  EXPECT_EQ(ordered.error, "");
  EXPECT_EQ(ordered.fingerprint, run_pair(false, in_turn).fingerprint);
}

namespace {

// The same run with lookahead on and off, and lookahead engaged.
void expect_unchanged_by_lookahead(const std::function<void(cpu::GuestCpu&, cpu::Word&)>& extra) {
  const Outcome on = run_pair(true, extra);
  const Outcome off = run_pair(false, extra);
  EXPECT_EQ(on.error, "");
  EXPECT_EQ(on.fingerprint, off.fingerprint);
  EXPECT_EQ(on.a, off.a);
  EXPECT_EQ(on.b, off.b);
  EXPECT_GT(on.ahead, 0u);
}

}  // namespace

// A wait of a declared task starts in turn (a halt, woken by its timer): nothing changes.
TEST(Lookahead, AWaitOfADeclaredTaskStartsInTurn) {
  expect_unchanged_by_lookahead([](cpu::GuestCpu& c, cpu::Word&) {
    c.arm_timer(c.now() + 1 * us);
    c.halt();
  });
}

// An interrupt sent by a declared task: the send is an exit, which starts in turn and completes
// in a barrier event, where the delivery happens; nothing passes it, so nothing changes.
TEST(Lookahead, AnInterruptSentByADeclaredTaskIsDeliveredInTurn) {
  expect_unchanged_by_lookahead([](cpu::GuestCpu& c, cpu::Word&) { c.send_ipi(1); });
}

// An interrupt pending on a transparent vCPU makes its armed work a barrier: the handler is not
// the declared code. Here the handler re-arms vCPU1's one-shot timer 300 ns on (a barrier
// event); were the completion still transparent, vCPU0 could have run past it and the push
// would be a violation. Expected: no violation and the same run as without lookahead.
TEST(Lookahead, AnInterruptMakesTheInterruptedWorkABarrier) {
  const auto run = [](bool lookahead) {
    Rig rig(2, 2);
    cpu::Machine& m = rig.build();
    cpu::Word& a = m.memory().word("a");
    const cpu::Footprint mine{"counter", {}, {&a}};
    const cpu::Footprint quiet{"quiet", {}, {}};
    std::uint64_t ticks = 0;
    m.vcpu(1).set_handler(cpu::Vector::kTimer, [&](cpu::GuestCpu& c) {
      ++ticks;
      c.trace("tick", static_cast<std::int64_t>(ticks));
      c.compute(40 * ns);
      c.arm_timer(c.now() + 300 * ns);
    });
    rig.body(0, [&](cpu::GuestCpu& c) {
      for (;;) {
        c.compute(130 * ns);
        c.store(a, c.load(a) + 1);
      }
    });
    rig.body(1, [&](cpu::GuestCpu& c) {
      c.arm_timer(c.now() + 300 * ns);
      for (;;) c.compute(90 * ns);
    });
    m.vcpu(0).declare(0, &mine);
    m.vcpu(1).declare(0, &quiet);
    rig.kernel.set_lookahead(lookahead);
    rig.run(100 * us);
    return std::make_tuple(rig.kernel.recorder().fingerprint(), ticks,
                           cpu::MemoryInspector::value(a), rig.kernel.lookahead_steps());
  };
  const auto on = run(true);
  const auto off = run(false);
  EXPECT_EQ(std::get<0>(on), std::get<0>(off));
  EXPECT_EQ(std::get<1>(on), std::get<1>(off));
  EXPECT_GT(std::get<1>(on), 100u);  // the timer did interrupt the transparent code, often
  EXPECT_EQ(std::get<2>(on), std::get<2>(off));
  EXPECT_GT(std::get<3>(on), 0u);
}
