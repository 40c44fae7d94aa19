// A choice the model branches on is a sim::EnumParam: each name is mapped to the model's enum
// value explicitly (sim/config/config.hpp). Per enum: every choice, set in a catalogue scenario,
// loads as the value intended for it, the resolved scenario writes the name back, and that resolved
// scenario loads as the same value again.
#include <gtest/gtest.h>

#include <functional>

#include "scenario_util.hpp"
#include "sim/error.hpp"

using namespace vcpusim;

namespace {

template <class E>
struct Case {
  const char* name;
  E value;
};

// "host.load[0].kind" -> "/host/load/0/kind".
sim::Json::json_pointer pointer(const std::string& path) {
  std::string p = "/";
  for (char c : path) {
    if (c == '.' || c == '[') {
      if (p.back() != '/') p += '/';
    } else if (c != ']') {
      p += c;
    }
  }
  return sim::Json::json_pointer(p);
}

// `path` set to each case's name in `file`, after `sets` (each may depend on the name, for a
// choice that needs its own keys). `param` finds the parameter in a loaded scenario.
template <class E>
void expect_round_trips(
    const std::string& file, const std::string& path, const std::vector<Case<E>>& cases,
    const std::function<const sim::EnumParam<E>&(const tools::Scenario&)>& param,
    const std::function<std::vector<std::string>(const std::string&)>& sets =
        [](const std::string&) { return std::vector<std::string>{}; }) {
  const auto defaults = tools::Scenario::load(test::scenario_path(file));
  ASSERT_EQ(param(*defaults).choices().size(), cases.size()) << path << ": a choice is untested";
  for (const auto& c : cases) {
    std::vector<std::string> all = sets(c.name);
    all.push_back(path + "=" + c.name);
    const auto s = tools::Scenario::load(test::scenario_path(file), all);
    EXPECT_EQ(param(*s).value, c.value) << path << " = " << c.name;
    const sim::Json resolved = s->resolved();
    EXPECT_EQ(resolved.at(pointer(path)), c.name) << path;
    const auto again = tools::Scenario::from_json(resolved, "resolved " + file);
    EXPECT_EQ(param(*again).value, c.value) << path << " = " << c.name << ", resolved";
  }
}

}  // namespace

TEST(EnumParam, TimekeepingVariantRoundTrips) {
  using V = guest::TkVariant;
  expect_round_trips<V>(
      "vdso-time-backwards.json", "guest.timekeeping.variant",
      {{"legacy", V::kLegacy},
       {"split-publish", V::kSplitPublish},
       {"shadow", V::kShadow},
       {"reanchor", V::kReanchor}},
      [](const tools::Scenario& s) -> auto& { return s.guest.timekeeping.variant; });
}

TEST(EnumParam, NmiVariantRoundTrips) {
  using V = guest::NmiVariant;
  expect_round_trips<V>(
      "nmi-time-read.json", "guest.timekeeping.nmi_variant",
      {{"naive", V::kNaive},
       {"owner-shadow", V::kOwnerShadow},
       {"owner-shadow-no-barrier", V::kNoBarrier},
       {"latch", V::kLatch}},
      [](const tools::Scenario& s) -> auto& { return s.guest.timekeeping.nmi_variant; });
}

TEST(EnumParam, NtpDirectionRoundTrips) {
  using V = guest::NtpDirection;
  expect_round_trips<V>(
      "timekeeping-latency.json", "guest.timekeeping.ntp.direction",
      {{"none", V::kNone}, {"down", V::kDown}, {"up", V::kUp}, {"alternating", V::kAlternating}},
      [](const tools::Scenario& s) -> auto& { return s.guest.timekeeping.ntp.direction; });
}

// The era names look like numbers: on the command line they are quoted JSON strings.
TEST(EnumParam, LockEraRoundTrips) {
  using V = guest::LockEra;
  const std::string file = test::scenario_path("lock-holder-preemption.json");
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, V>>{{"2015", V::k2015}, {"2016", V::k2016},
                                              {"current", V::kCurrent}}) {
    const auto s = tools::Scenario::load(file, {"guest.locks.era=\"" + name + "\""});
    EXPECT_EQ(s->guest.locks.era.value, value) << name;
    const sim::Json resolved = s->resolved();
    EXPECT_EQ(resolved["guest"]["locks"]["era"], name);
    EXPECT_EQ(tools::Scenario::from_json(resolved, "resolved")->guest.locks.era.value, value);
  }
}

TEST(EnumParam, SmpCallVariantRoundTrips) {
  using V = guest::SmpCallVariant;
  expect_round_trips<V>("ipi-deadlock.json", "guest.smp_call.variant",
                        {{"irqs-off-allowed", V::kIrqsOffAllowed},
                         {"assert-irqs-enabled", V::kAssert},
                         {"poll-own-queue", V::kPollOwnQueue},
                         {"global-lock", V::kGlobalLock}},
                        [](const tools::Scenario& s) -> auto& { return s.guest.smp_call.variant; });
}

TEST(EnumParam, MmuNotifierVariantRoundTrips) {
  using V = guest::MmuNotifierVariant;
  expect_round_trips<V>(
      "mmu-notifier-sleep.json", "guest.mmu_notifier.variant",
      {{"rcu", V::kRcu}, {"rcu-seqlock", V::kRcuSeqlock}, {"srcu", V::kSrcu}},
      [](const tools::Scenario& s) -> auto& { return s.guest.mmu_notifier.variant; });
}

TEST(EnumParam, PvHashOrderRoundTrips) {
  using V = guest::PvHashOrder;
  expect_round_trips<V>(
      "pv-hash-race.json", "guest.locks.pv_hash_order",
      {{"hash-then-slow", V::kHashThenSlow}, {"slow-then-hash", V::kSlowThenHash}},
      [](const tools::Scenario& s) -> auto& { return s.guest.locks.pv_hash_order; });
}

TEST(EnumParam, PvHashLookupRoundTrips) {
  using V = guest::PvHashLookup;
  expect_round_trips<V>(
      "pv-hash-race.json", "guest.locks.pv_hash_lookup",
      {{"probe-until-found", V::kProbeUntilFound}, {"stop-at-empty", V::kStopAtEmpty}},
      [](const tools::Scenario& s) -> auto& { return s.guest.locks.pv_hash_lookup; });
}

TEST(EnumParam, SchedulerPolicyRoundTrips) {
  using V = cpu::SchedulerKind;
  expect_round_trips<V>("vdso-time-backwards.json", "host.scheduler.policy",
                        {{"fair", V::kFair}, {"rr", V::kRr}},
                        [](const tools::Scenario& s) -> auto& { return s.host.scheduler.policy; });
}

TEST(EnumParam, LoadKindRoundTrips) {
  using V = cpu::LoadKind;
  // Each kind takes its own keys: the load is replaced by one of that kind.
  expect_round_trips<V>(
      "vdso-time-backwards.json", "host.load[0].kind",
      {{"duty", V::kDuty}, {"poisson", V::kPoisson}, {"script", V::kScript}, {"trace", V::kTrace}},
      [](const tools::Scenario& s) -> auto& { return s.host.load.at(0)->kind; },
      [](const std::string& kind) {
        const std::string trace =
            std::string(VCPUSIM_SOURCE_DIR) + "/tests/inputs/host_trace/synth.trace";
        const std::string keys = kind == "script"  ? R"("windows": [["1ms", "2ms"]])"
                                 : kind == "trace" ? R"("file": ")" + trace + "\""
                                                   : R"("busy": "1ms", "idle": "3ms")";
        return std::vector<std::string>{R"(host.load=[{"kind": ")" + kind +
                                        R"(", "cpus": [0], )" + keys + "}]"};
      });
}

TEST(EnumParam, HoldDistRoundTrips) {
  using V = guest::HoldDist;
  expect_round_trips<V>(
      "lock-holder-preemption.json", "guest.workloads[0].hold_dist",
      {{"fixed", V::kFixed}, {"exponential", V::kExponential}},
      [](const tools::Scenario& s) -> auto& { return s.guest.workloads.at(0)->hold_dist; });
}

TEST(EnumParam, IrqStateRoundTrips) {
  using V = guest::IrqState;
  expect_round_trips<V>(
      "ipi-deadlock.json", "guest.workloads[0].irqs", {{"on", V::kOn}, {"off", V::kOff}},
      [](const tools::Scenario& s) -> auto& { return s.guest.workloads.at(0)->irqs; });
}

TEST(EnumParam, CallModeRoundTrips) {
  using V = guest::CallMode;
  expect_round_trips<V>(
      "ipi-deadlock.json", "guest.workloads[0].mode", {{"single", V::kSingle}, {"many", V::kMany}},
      [](const tools::Scenario& s) -> auto& { return s.guest.workloads.at(0)->mode; });
}

TEST(EnumParam, NotifierRoleRoundTrips) {
  using V = guest::NotifierRole;
  expect_round_trips<V>(
      "mmu-notifier-sleep.json", "guest.workloads[0].role",
      {{"invalidate", V::kInvalidate}, {"churn", V::kChurn}},
      [](const tools::Scenario& s) -> auto& { return s.guest.workloads.at(0)->role; });
}

TEST(EnumParam, TraceModeRoundTrips) {
  using V = cpu::TraceMode;
  const std::string trace = std::string(VCPUSIM_SOURCE_DIR) + "/tests/inputs/host_trace/synth.trace";
  expect_round_trips<V>(
      "vdso-time-backwards.json", "host.load[0].mode",
      {{"demand", V::kDemand}, {"reserve", V::kReserve}},
      [](const tools::Scenario& s) -> auto& { return s.host.load.at(0)->mode; },
      [trace](const std::string&) {
        return std::vector<std::string>{R"(host.load=[{"kind": "trace", "file": ")" + trace +
                                        R"(", "cpus": [0]}])"};
      });
}

TEST(EnumParam, TraceFormatRoundTrips) {
  const std::string dir = std::string(VCPUSIM_SOURCE_DIR) + "/tests/inputs/host_trace/";
  expect_round_trips<cpu::TraceFormat>(
      "vdso-time-backwards.json", "host.load[0].format",
      {{"auto", cpu::TraceFormat::kAuto},
       {"ftrace", cpu::TraceFormat::kFtrace},
       {"trace-cmd", cpu::TraceFormat::kTraceCmd},
       {"perf", cpu::TraceFormat::kPerf}},
      [](const tools::Scenario& s) -> auto& { return s.host.load.at(0)->format; },
      [dir](const std::string& format) {
        const std::string file =
            dir + (format == "perf" ? "synth.perf" : format == "trace-cmd" ? "synth.report" : "synth.trace");
        return std::vector<std::string>{R"(host.load=[{"kind": "trace", "file": ")" + file +
                                        R"(", "cpus": [0]}])"};
      });
}

namespace {
enum class Colour { kRed, kGreen, kBlue };
struct Palette : sim::ParamSet {};
}  // namespace

// The mapping is checked where it is written: two names for one value (or one name twice) would
// resolve a scenario to a name other than the one it was given, and a default outside the choices
// could not be written back.
TEST(EnumParam, AmbiguousOrIncompleteChoicesAreAModelError) {
  Palette p;
  using C = sim::EnumParam<Colour>;
  EXPECT_THROW(C(p, "c", Colour::kRed, {{"red", Colour::kRed}, {"rouge", Colour::kRed}}, ""),
               sim::SimError);
  EXPECT_THROW(C(p, "c", Colour::kRed, {{"red", Colour::kRed}, {"red", Colour::kGreen}}, ""),
               sim::SimError);
  EXPECT_THROW(C(p, "c", Colour::kBlue, {{"red", Colour::kRed}, {"green", Colour::kGreen}}, ""),
               sim::SimError);
  C ok(p, "c", Colour::kRed, {{"red", Colour::kRed}, {"green", Colour::kGreen}}, "");
  ok.value = Colour::kBlue;
  EXPECT_THROW(ok.text(), sim::SimError);
}
