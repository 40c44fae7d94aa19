// The timekeeping laws (guest/timekeeping_laws.hpp) that the model computes with and the scenario
// check and the sweep's closed form predict with, measured on the model.
#include "guest/timekeeping_laws.hpp"

#include <gtest/gtest.h>

#include "guest/trace_kinds.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;
namespace law = guest::tk_law;

namespace {

// seed 001 without its host load and readers, 41 ms: ten timekeeping updates (ticks at 4, 8, ...,
// 40 ms), none cut off by the end of the run.
tools::RunResult unloaded(const std::string& ntp) {
  return test::run_file("vdso-time-backwards.json",
                        {"host.load=[]", "guest.workloads=[]", "duration=41ms",
                         "guest.timekeeping.ntp=" + ntp});
}

}  // namespace

// 10^9 * 2^24 / 2.5 GHz = 6710886.4.
TEST(TimekeepingLaws, InitialMultIsTheRoundedQuotient) {
  EXPECT_EQ(law::initial_mult(2500000000, 24), 6710886);
  EXPECT_EQ(law::initial_mult(3000000000, 32), 1431655765);  // 1431655765.33
  guest::NtpParams ntp;
  ntp.mult_steps.value = 7;
  EXPECT_EQ(law::ntp_step(ntp, 6710886), 7);
}

// ntp_update_frequency() and timekeeping_adjust() at 250 Hz, shift 24, 2.5 GHz: a tick is
// 4 ms = 4e6 ns; 10^7 cycles at mult 6710886 cover 4e6 ns << 24 less 4000000 (xtime_remainder).
// At -500 ppm the tick is 3998000 ns, so mult = ((3998000 << 24) - 4000000) / 10^7 = 6707530.56
// rounded down; the frequency is clamped at +-500 ppm (MAXFREQ) whatever adjtimex passes.
TEST(TimekeepingLaws, KernelNtpTickLengthAndMult) {
  const __int128 one_tick = static_cast<__int128>(4000000) << 32;
  EXPECT_TRUE(law::ntp_tick_length(250, 0) == one_tick);
  EXPECT_TRUE(law::ntp_tick_length(250, -500 * 65536) == static_cast<__int128>(3998000) << 32);
  EXPECT_TRUE(law::ntp_tick_length(250, -10000 * 65536) == law::ntp_tick_length(250, -500 * 65536));
  const __int128 rem = law::xtime_remainder(250, 24, 10000000, 6710886);
  EXPECT_TRUE(rem == 4000000);
  EXPECT_EQ(law::mult_for_tick(law::ntp_tick_length(250, 0), 24, rem, 10000000), 6710886);
  EXPECT_EQ(law::mult_for_tick(law::ntp_tick_length(250, -500 * 65536), 24, rem, 10000000),
            6707530);
  EXPECT_EQ(law::mult_for_tick(law::ntp_tick_length(250, 500 * 65536), 24, rem, 10000000),
            6714241);  // 6714241.27
}

// The model's mult after ten updates, against the laws' count written out by hand.
TEST(TimekeepingLaws, ModelMultFollowsTheNtpLaws) {
  struct Case {
    const char* ntp;
    std::int64_t mult_final;
  };
  const Case cases[] = {
      {R"({"direction": "down", "mult_steps": 3355})", 6710886 - 10 * 3355},
      {R"({"direction": "up", "mult_steps": 7, "every_ticks": 2})", 6710886 + 5 * 7},
      // Updates 3, 6 and 9 adjust: down, up, down.
      {R"({"direction": "alternating", "mult_steps": 3355, "every_ticks": 3})", 6710886 - 3355},
      {R"({"direction": "alternating", "mult_steps": 3355})", 6710886},
      {R"({"direction": "none"})", 6710886},
      // The kernel's NTP at a constant 0 ppm never moves mult: its tick is what mult covers.
      {R"({"schedule": []})", 6710886},
  };
  for (const Case& c : cases) {
    const auto r = unloaded(c.ntp);
    EXPECT_EQ(test::metric(r, "timekeeping.updates"), 10) << c.ntp;
    EXPECT_EQ(test::metric(r, "timekeeping.mult_initial"), 6710886) << c.ntp;
    EXPECT_EQ(test::metric(r, "timekeeping.mult_final"), c.mult_final) << c.ntp;
  }
}

// The range the scenario check refuses covers what the model can reach: the bound on adjustments
// is at least the updates of a run, and the range holds every mult on the way.
TEST(TimekeepingLaws, MultRangeBoundsTheModelsMult) {
  EXPECT_GE(law::most_adjustments(41 * sim::kMillisecond, 250, 1), 10);
  EXPECT_GE(law::most_adjustments(41 * sim::kMillisecond, 250, 3), 3);
  for (const auto d : {guest::NtpDirection::kDown, guest::NtpDirection::kUp,
                       guest::NtpDirection::kAlternating}) {
    const law::MultRange range = law::mult_range(d, 1000, 10, 5);
    std::int64_t mult = 1000;
    for (std::int64_t n = 0; n < 5; ++n) {
      mult += law::ntp_adjustment(d, n, 10);
      EXPECT_GE(mult, range.lowest);
      EXPECT_LE(mult, range.highest);
    }
  }
  EXPECT_EQ(law::mult_range(guest::NtpDirection::kDown, 1000, 10, 5).lowest, 950);
  EXPECT_EQ(law::mult_range(guest::NtpDirection::kUp, 1000, 10, 5).highest, 1050);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kDown), law::kNtpPeriod);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kAlternating), 1);
  EXPECT_EQ(law::lowering_per_period(guest::NtpDirection::kUp), 0);
}

namespace {

std::int64_t word_id(const tools::RunResult& r, const std::string& name) {
  for (const auto& [id, label] : r.labels)
    if (label == name) return id;
  ADD_FAILURE() << "no word " << name;
  return -1;
}

// When each event or note of `kind` (with a = `a`, when given) was recorded.
std::vector<sim::Tick> times(const tools::RunResult& r, const char* kind,
                             std::optional<std::int64_t> a = std::nullopt) {
  std::vector<sim::Tick> out;
  for (const auto& e : r.events)
    if (e.kind == kind && (!a || e.a == *a)) out.push_back(e.time);
  return out;
}

}  // namespace

// The sweep's closed form (tools/sweep/sweep_model.cpp) rests on how long an update leaves vDSO readers
// on the old line after its clock read (the window a host preemption must hit) and how long it
// then makes them wait. Measured at every update of an unloaded run (no host load, no reader to
// pull the lines away) from the update's clock read (tk.read) and the vDSO seqcount's notes.
TEST(TimekeepingLaws, PublishWindowAndVdsoOddTimeAreWhatEachVariantTakes) {
  using V = guest::TkVariant;
  for (const char* variant : {"legacy", "split-publish", "shadow", "reanchor"}) {
    const auto t = test::run_traced(
        "vdso-time-backwards.json", {"host.load=[]", "guest.workloads=[]", "duration=41ms",
                                     std::string("guest.timekeeping.variant=") + variant});
    const V v = t.scenario->guest.timekeeping.variant.value;
    const auto& costs = t.scenario->costs;
    const std::int64_t vdso = word_id(t.result, "vdso.seq");
    const auto reads = times(t.result, "tk.read");
    const auto odd = times(t.result, guest::trace_kind::kSeqWriteBegin, vdso);
    const auto even = times(t.result, guest::trace_kind::kSeqWriteEnd, vdso);
    ASSERT_EQ(reads.size(), 10u) << variant;
    ASSERT_EQ(odd.size(), reads.size()) << variant;
    ASSERT_EQ(even.size(), reads.size()) << variant;
    const sim::Tick window = law::vdso_publish_window(v, costs.timekeeping, costs);
    const sim::Tick odd_time = law::vdso_odd_time(v, costs.timekeeping, costs);
    for (std::size_t i = 0; i < reads.size(); ++i) {
      EXPECT_EQ(odd[i] - reads[i], window) << variant << ", update " << i;
      EXPECT_EQ(even[i] - odd[i], odd_time) << variant << ", update " << i;
    }
  }
  // seed 001's split-publish: 1.5 us accumulate + 2.5 us ntp_adjust + tk_core's write section
  // (two 2 ns seqcount writes, 3.3 us copy, five 1 ns stores) + the vDSO's 2 ns write_begin.
  const cpu::CostParams c;
  const guest::TimekeepingCosts tc;
  EXPECT_EQ(law::vdso_publish_window(V::kSplitPublish, tc, c), 7311 * sim::kNanosecond);
  EXPECT_EQ(law::vdso_odd_time(V::kSplitPublish, tc, c), 407 * sim::kNanosecond);
}

// A reader's period in the closed form is its think time plus one read: the fastest read of a run
// (nothing to wait for, its lines cached) takes exactly the law's time.
TEST(TimekeepingLaws, VdsoReadIsTheReadersFastestRead) {
  const auto s = tools::Scenario::load(test::scenario_path("vdso-time-backwards.json"),
                                       {"host.load=[]", "duration=41ms"});
  const auto r = tools::run_scenario(*s);
  const sim::Tick read = law::vdso_read(s->costs.timekeeping, s->costs);
  EXPECT_EQ(test::metric(r, "reader_latency_ns.vdso.min") * sim::kNanosecond, read);
  EXPECT_EQ(read, 25 * sim::kNanosecond);  // seven 1 ns loads, an 8 ns rdtsc, 10 ns to compute
}
