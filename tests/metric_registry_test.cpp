// The metric registry (sim/record/metric_registry.hpp): every metric a run emits resolves to
// exactly one declaration, a component's metrics are listed for the scenarios that build it,
// emission under an undeclared name is an internal error, and a typo gets the nearest declared
// name.
#include "sim/record/metric_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/registries.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"

using namespace vcpusim;

namespace {

const sim::MetricRegistry& declared() {
  return guest::builtin_registries().metrics;
}

// Every metric of a run: each resolves to exactly one declaration, of a group the scenario's
// components declare (so `vcpusim metrics SCENARIO` lists it). The failure names the metric.
void expect_every_metric_declared(const tools::Scenario& s, const std::string& what) {
  const tools::RunResult r = tools::run_scenario(s);
  const std::vector<std::string> groups = tools::metric_groups(s);
  const sim::Json& metrics = r.document["metrics"];
  ASSERT_FALSE(metrics.empty()) << what;
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    const auto found = sim::resolve_metric(declared(), it.key());
    ASSERT_EQ(found.size(), 1u) << what << ": metric " << it.key() << " resolves to "
                                << found.size() << " declarations";
    const std::string& group = found.front().spec->group;
    EXPECT_NE(std::find(groups.begin(), groups.end(), group), groups.end())
        << what << ": metric " << it.key() << " of group " << group
        << " is missing from the groups its components declare";
    EXPECT_EQ(found.front().numeric(), it.value().is_number()) << what << ": " << it.key();
  }
}

class CatalogueMetrics : public ::testing::TestWithParam<std::string> {};

TEST_P(CatalogueMetrics, EveryEmittedMetricIsDeclaredOnce) {
  const auto s = tools::Scenario::load(test::scenario_path(GetParam()));
  expect_every_metric_declared(*s, GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, CatalogueMetrics, ::testing::ValuesIn(test::catalogue_files()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The control of the test above: a registry without the APIC's group leaves ipi.sent undeclared.
TEST(MetricRegistry, AMetricOfAGroupLeftOutOfTheRegistryDoesNotResolve) {
  const tools::RunResult r = test::run_file("ipi-deadlock.json");
  ASSERT_TRUE(r.document["metrics"].contains("ipi.sent"));
  sim::MetricRegistry partial("metric");
  cpu::MachineMetrics().declare(partial);
  cpu::HypervisorMetrics().declare(partial);
  EXPECT_TRUE(sim::resolve_metric(partial, "ipi.sent").empty());
  EXPECT_EQ(sim::resolve_metric(declared(), "ipi.sent").size(), 1u);
}

// The components no catalogue scenario has: host noise, CPU bandwidth control, SRCU domains,
// the mmu notifiers' SRCU, NMI time reads with the shadow, ipi storms with every variant.
TEST(MetricRegistry, ComponentsBeyondTheCatalogueEmitOnlyDeclaredMetrics) {
  const sim::Json srcu = {
      {"name", "srcu"},
      {"duration", "3ms"},
      {"host", {{"pcpus", 2}, {"noise", {{"enabled", true}}}}},
      {"vm", {{"vcpus", 2}, {"cpu_max", {{"quota", "1ms"}, {"period", "2ms"}}}}},
      {"guest",
       {{"mmu_notifier", {{"variant", "srcu"}}},
        {"workloads",
         {{{"kind", "srcu_reader"}, {"vcpus", {0}}, {"domain", 1}, {"sleep", "20us"}},
          {{"kind", "srcu_updater"}, {"vcpus", {1}}, {"domain", 1}},
          {{"kind", "mmu_notifier_torture"}, {"vcpus", {0}}, {"role", "churn"}}}}}}};
  expect_every_metric_declared(*tools::Scenario::from_json(srcu, "srcu.json"), "srcu");
  const auto nmi = tools::Scenario::load(test::scenario_path("nmi-time-read.json"),
                                         {"guest.timekeeping.nmi_variant=owner-shadow"});
  expect_every_metric_declared(*nmi, "nmi owner-shadow");
}

// Each declared name resolves back to its own declaration alone: no two patterns overlap.
TEST(MetricRegistry, EachDeclarationResolvesOnlyToItself) {
  for (const sim::MetricSpec& m : declared().entries()) {
    std::string name = m.name;
    for (std::size_t p; (p = name.find("<N>")) != std::string::npos;) name.replace(p, 3, "0");
    if (const std::size_t open = name.find('{'); open != std::string::npos)
      name = name.substr(0, open) +
             name.substr(open + 1, name.find_first_of(",}", open) - open - 1) +
             name.substr(name.find('}', open) + 1);
    for (std::size_t p; (p = name.find("<N>")) != std::string::npos;) name.replace(p, 3, "0");
    if (m.shape == sim::MetricShape::kSummary) name += ".p99";
    const auto found = sim::resolve_metric(declared(), name);
    ASSERT_EQ(found.size(), 1u) << name;
    EXPECT_EQ(found.front().spec, &m) << name;
  }
}

TEST(MetricRegistry, EveryDeclarationHasAUnitAndADoc) {
  for (const sim::MetricSpec& m : declared().entries()) {
    EXPECT_FALSE(m.doc.empty()) << m.name;
    EXPECT_FALSE(m.group.empty()) << m.name;
    if (m.shape == sim::MetricShape::kNumber || m.shape == sim::MetricShape::kSummary) {
      EXPECT_FALSE(m.unit.empty()) << m.name;
    }
  }
}

TEST(MetricPattern, NumbersAndWordsMatchWhatTheyStandFor) {
  EXPECT_TRUE(sim::metric_pattern_matches("vcpu<N>.steal_ns", "vcpu12.steal_ns"));
  EXPECT_FALSE(sim::metric_pattern_matches("vcpu<N>.steal_ns", "vcpu.steal_ns"));
  EXPECT_FALSE(sim::metric_pattern_matches("vcpu<N>.steal_ns", "vcpux.steal_ns"));
  EXPECT_TRUE(sim::metric_pattern_matches("ipi.to_{running,halted}", "ipi.to_halted"));
  EXPECT_FALSE(sim::metric_pattern_matches("ipi.to_{running,halted}", "ipi.to_preempted"));
  EXPECT_TRUE(sim::metric_pattern_matches("srcu.{domain<N>,mm}.gps", "srcu.domain3.gps"));
  EXPECT_TRUE(sim::metric_pattern_matches("srcu.{domain<N>,mm}.gps", "srcu.mm.gps"));
  EXPECT_FALSE(sim::metric_pattern_matches("srcu.{domain<N>,mm}.gps", "srcu.domain.gps"));
}

TEST(MetricPattern, MalformedPatternsAreRefusedAtDeclaration) {
  for (const char* bad : {"", "a.{b,c", "a.b}", "a.{b,}", "a.{b,{c}}", "a<M>", "a b", "a-b"})
    EXPECT_THROW(sim::check_metric_pattern(bad), sim::SimError) << bad;
  EXPECT_NO_THROW(sim::check_metric_pattern("a.{b,c<N>}.d<N>"));
}

struct Declared : sim::MetricGroup {
  Declared() : MetricGroup("test") {}
  sim::Metric per_vcpu{*this, "vcpu<N>.x", "ns", "per vCPU"};
  sim::Metric state{*this, "y.{on,off}", "count", "by state"};
  sim::Metric summary{*this, "z_ns", "ns", "samples", sim::MetricShape::kSummary};
  sim::Counter counter{*this, "c", "a count"};
};

TEST(Metric, EmittingANameItsPatternDoesNotDeclareIsAnInternalError) {
  const Declared d;
  sim::Metrics out;
  out.set(d.per_vcpu, {"3"}, 5);
  out.set(d.state, {"off"}, 1);
  EXPECT_EQ(out.find("vcpu3.x")->get<int>(), 5);
  EXPECT_EQ(out.find("y.off")->get<int>(), 1);
  EXPECT_THROW(out.set(d.per_vcpu, {"three"}, 5), sim::SimError);
  EXPECT_THROW(out.set(d.per_vcpu, 5), sim::SimError);  // its placeholder left unfilled
  EXPECT_THROW(out.set(d.state, {"maybe"}, 1), sim::SimError);
  EXPECT_THROW(out.set(d.summary, 1), sim::SimError);  // a summary is set from its samples
  EXPECT_THROW(out.set_summary(d.per_vcpu, {"1"}, sim::Samples{}), sim::SimError);
}

TEST(Metric, CountersAndDistributionsAreEmittedByTheirGroup) {
  Declared d;
  ++d.counter;
  d.counter += 2;
  sim::Metrics out;
  d.collect(out);
  EXPECT_EQ(out.find("c")->get<int>(), 3);
  EXPECT_EQ(out.values().size(), 1u);  // the declarations without a value emit nothing
  sim::MetricRegistry r("metric");
  d.declare(r);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"vcpu<N>.x", "y.{on,off}", "z_ns", "c"}));
  EXPECT_THROW(d.declare(r), sim::SimError);  // a name declared twice
}

TEST(NearestMetric, SuggestsTheDeclaredNameOfATypo) {
  EXPECT_EQ(sim::nearest_metric(declared(), "vcpu0.stael_ns"), "vcpu<N>.steal_ns");
  EXPECT_EQ(sim::nearest_metric(declared(), "reader_latency_ns.vdso.p9"),
            "reader_latency_ns.vdso.p99");
  EXPECT_EQ(sim::nearest_metric(declared(), "host.pcpu0.load_frac"), "host.pcpu<N>.load_fraction");
  EXPECT_EQ(sim::nearest_metric(declared(), "rcu.grace_period"), "rcu.grace_periods");
}

TEST(ResolveMetric, ASummaryStatisticHasItsUnitAndCountCountsSamples) {
  const auto p99 = sim::resolve_metric(declared(), "rcu.gp_ns.p99");
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_EQ(p99.front().unit(), "ns");
  EXPECT_EQ(p99.front().part, "p99");
  const auto count = sim::resolve_metric(declared(), "rcu.gp_ns.count");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count.front().unit(), "samples");
  EXPECT_TRUE(sim::resolve_metric(declared(), "rcu.gp_ns").empty());  // a summary needs its part
  EXPECT_FALSE(sim::resolve_metric(declared(), "locks.kind").front().numeric());
}

}  // namespace
