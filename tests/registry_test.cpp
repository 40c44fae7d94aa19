// The registries of checks and workload kinds (guest/registries.hpp): every declared name reaches
// the schema, the known-name list of the validation message, --help and a run; an unknown name
// is refused with the whole list; a check and a workload kind declared outside the built-in list
// are validated, attached and spawned like the built-in ones.
#include "sim/config/registry.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "cpu/check_registry.hpp"
#include "cpu/machine.hpp"
#include "guest/guest_os.hpp"
#include "guest/registries.hpp"
#include "sim/error.hpp"
#include "tools/run/names_help.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

using namespace vcpusim;

namespace {

const guest::Registries& builtin() {
  return guest::builtin_registries();
}

// Two vCPUs for 2 ms, the given workloads and checks.
sim::Json scenario(const sim::Json& workloads, const sim::Json& checks) {
  return {{"name", "registry"},
          {"duration", "2ms"},
          {"host", {{"pcpus", 2}}},
          {"vm", {{"vcpus", 2}}},
          {"guest", {{"workloads", workloads}}},
          {"checks", checks}};
}

// The message of the ConfigError loading `doc` throws ("" when it loads).
std::string refusal(const sim::Json& doc,
                    const guest::Registries& registries = guest::builtin_registries()) {
  try {
    tools::Scenario::from_json(doc, "registry.json", {}, std::nullopt, registries);
  } catch (const sim::ConfigError& e) {
    return e.what();
  }
  return "";
}

// One workload of `kind` on vCPU 0, with the keys it cannot do without.
sim::Json workload(const guest::WorkloadKind& kind) {
  sim::Json w = {{"kind", kind.name}, {"vcpus", {0}}};
  for (const std::string& key : kind.keys) {
    if (key == "targets") w["targets"] = {1};
    if (key == "period") w["period"] = "100us";
  }
  return w;
}

std::string fingerprint(const sim::Json& doc,
                        const guest::Registries& registries = guest::builtin_registries()) {
  const auto s = tools::Scenario::from_json(doc, "registry.json", {}, std::nullopt, registries);
  return tools::run_scenario(*s).document["fingerprint"].get<std::string>();
}

struct Named {
  std::string name;
  std::string doc;
};

}  // namespace

TEST(Registry, ListsInDeclarationOrderAndRefusesAnEmptyOrRepeatedName) {
  sim::Registry<Named> r("thing");
  r.add({"zeta", "last by name, first declared"});
  r.add({"alpha", "first by name"});
  EXPECT_EQ(r.names(), (std::vector<std::string>{"zeta", "alpha"}));
  EXPECT_EQ(r.at("alpha").doc, "first by name");
  EXPECT_EQ(r.find("beta"), nullptr);
  EXPECT_THROW(r.add({"zeta", "again"}), sim::SimError);
  EXPECT_THROW(r.add({"", "nameless"}), sim::SimError);
  EXPECT_THROW(r.at("beta"), sim::SimError);
  EXPECT_EQ(r.names().size(), 2u);
}

// The default "checks" list a resolved scenario echoes keeps its published order.
TEST(CheckRegistry, BuiltInOrderIsThePublishedDefaultList) {
  EXPECT_EQ(
      builtin().checks.names(),
      (std::vector<std::string>{"monotonic_time", "no_deadlock", "no_hang", "nmi_completes",
                                "api_misuse", "rcu_reader_spans_gp", "rcu_stall", "use_after_free",
                                "mutual_exclusion", "no_lost_wakeup", "hash_lookup"}));
  sim::Json doc = scenario(sim::Json::array(), sim::Json::array());
  doc.erase("checks");
  const auto s = tools::Scenario::from_json(doc, "registry.json");
  EXPECT_EQ(s->resolved()["checks"].get<std::vector<std::string>>(), builtin().checks.names());
}

TEST(CheckRegistry, EveryCheckIsInTheSchemaAndItsBoundsAreLimitsKeys) {
  const sim::Json schema = tools::Scenario::schema();
  const auto& props = schema["properties"];
  EXPECT_EQ(props["checks"]["items"]["enum"].get<std::vector<std::string>>(),
            builtin().checks.names());
  std::set<std::string> bounds;
  for (const cpu::CheckSpec& c : builtin().checks.entries()) {
    EXPECT_TRUE(props["expect"]["properties"]["violations"]["properties"].contains(c.name))
        << c.name;
    EXPECT_FALSE(c.doc.empty()) << c.name;
    for (const cpu::CheckLimit& l : c.limits) {
      bounds.insert(l.name);
      const std::string description = props["limits"]["properties"][l.name]["description"];
      EXPECT_EQ(description.rfind(l.doc, 0), 0u) << c.name << ": " << description;
    }
  }
  std::set<std::string> keys;
  for (auto it = props["limits"]["properties"].begin(); it != props["limits"]["properties"].end();
       ++it)
    keys.insert(it.key());
  EXPECT_EQ(keys, bounds);
  EXPECT_EQ(bounds, (std::set<std::string>{"hang_after", "lost_wakeup_after", "nmi_max"}));
}

TEST(CheckRegistry, AnUnknownCheckIsRefusedWithEveryKnownName) {
  const std::string message =
      refusal(scenario(sim::Json::array(), sim::Json::array({"no_starvation"})));
  EXPECT_NE(message.find("$.checks[0]: \"no_starvation\" is not a known choice"), std::string::npos)
      << message;
  for (const std::string& name : builtin().checks.names())
    EXPECT_NE(message.find("\"" + name + "\""), std::string::npos) << name << ": " << message;
}

// Alone, each check attaches and is the one check the run counts.
TEST(CheckRegistry, EveryCheckAttachesAndIsCountedAlone) {
  const sim::Json workloads = {{{"kind", "vdso_reader"}, {"vcpus", {0}}},
                               {{"kind", "ipi_storm"}, {"vcpus", {1}}, {"targets", {0}}}};
  for (const std::string& name : builtin().checks.names()) {
    const auto s =
        tools::Scenario::from_json(scenario(workloads, sim::Json::array({name})), "registry.json");
    const sim::Json counts = tools::run_scenario(*s).document["violation_counts"];
    EXPECT_EQ(counts, (sim::Json{{name, 0}})) << name;
  }
}

// The checks the machine feeds connect to it only when enabled.
TEST(CheckRegistry, MachineChecksConnectOnlyWhenEnabled) {
  const auto s =
      tools::Scenario::from_json(scenario(sim::Json::array(), sim::Json::array()), "registry.json");
  for (const bool on : {false, true}) {
    sim::Kernel kernel;
    sim::RandomDecisionSource decisions(1, kernel.components());
    cpu::Machine machine(kernel, decisions, s->host, s->vm, s->costs);
    const std::vector<std::string> enabled =
        on ? std::vector<std::string>{"no_hang", "nmi_completes", "no_lost_wakeup"}
           : std::vector<std::string>{};
    sim::CheckSet checks(enabled, s->limits.values());
    cpu::attach_checks(builtin().checks, machine, checks);
    EXPECT_EQ(machine.wait_graph() != nullptr, on);
    EXPECT_EQ(machine.nmi_check() != nullptr, on);
    EXPECT_EQ(machine.lost_wakeup_check() != nullptr, on);
    if (on) {
      EXPECT_EQ(machine.nmi_check()->bound(), s->limits.values().at("nmi_max"));
    }
  }
}

TEST(WorkloadRegistry, EveryKindIsInTheSchemaWithItsDocAndKeys) {
  const sim::Json schema = tools::Scenario::schema();
  const sim::Json& item = schema["properties"]["guest"]["properties"]["workloads"]["items"];
  EXPECT_EQ(item["properties"]["kind"]["enum"].get<std::vector<std::string>>(),
            builtin().workloads.names());
  const std::string description = item["properties"]["kind"]["description"];
  for (const guest::WorkloadKind& k : builtin().workloads.entries()) {
    EXPECT_NE(description.find(k.name + ": " + k.doc), std::string::npos) << k.name;
    EXPECT_TRUE(k.spawn) << k.name;
    for (const std::string& key : k.keys)
      EXPECT_TRUE(item["properties"].contains(key)) << k.name << " declares " << key;
  }
}

TEST(WorkloadRegistry, AnUnknownOrMissingKindIsRefusedWithEveryKnownName) {
  const std::string unknown = refusal(
      scenario(sim::Json::array({{{"kind", "fork_bomb"}, {"vcpus", {0}}}}), sim::Json::array()));
  EXPECT_NE(unknown.find("$.guest.workloads[0].kind: \"fork_bomb\" is not a known choice"),
            std::string::npos)
      << unknown;
  const std::string missing =
      refusal(scenario(sim::Json::array({{{"vcpus", {0}}}}), sim::Json::array()));
  EXPECT_NE(missing.find("missing key \"kind\""), std::string::npos) << missing;
  for (const std::string& name : builtin().workloads.names()) {
    EXPECT_NE(unknown.find("\"" + name + "\""), std::string::npos) << name << ": " << unknown;
    EXPECT_NE(missing.find("\"" + name + "\""), std::string::npos) << name << ": " << missing;
  }
}

// A key another kind takes is refused, with the kind's own keys as the allowed ones.
TEST(WorkloadRegistry, AKindRefusesAKeyItDoesNotDeclare) {
  const std::string message =
      refusal(scenario(sim::Json::array({{{"kind", "busy"}, {"vcpus", {0}}, {"think", "1us"}}}),
                       sim::Json::array()));
  EXPECT_NE(message.find("unknown key \"think\"; allowed: keys \"chunk\", \"kind\", \"vcpus\""),
            std::string::npos)
      << message;
}

// Each kind loads with its keys, echoes exactly them, and its spawn changes the run (idle, the
// idle task every vCPU has anyway, changes nothing).
TEST(WorkloadRegistry, EveryKindSpawnsAndEchoesItsKeys) {
  const std::string idle_run = fingerprint(scenario(sim::Json::array(), sim::Json::array()));
  for (const guest::WorkloadKind& k : builtin().workloads.entries()) {
    const sim::Json doc = scenario(sim::Json::array({workload(k)}), sim::Json::array());
    const auto s = tools::Scenario::from_json(doc, "registry.json");
    const sim::Json resolved = s->resolved()["guest"]["workloads"][0];
    std::set<std::string> echoed;
    for (auto it = resolved.begin(); it != resolved.end(); ++it) echoed.insert(it.key());
    std::set<std::string> expected = {"kind", "vcpus"};
    for (const std::string& key : k.keys)
      if (std::find(k.echoed_when_set.begin(), k.echoed_when_set.end(), key) ==
          k.echoed_when_set.end())
        expected.insert(key);
    EXPECT_EQ(echoed, expected) << k.name;
    if (k.name == "idle")
      EXPECT_EQ(fingerprint(doc), idle_run);
    else
      EXPECT_NE(fingerprint(doc), idle_run) << k.name;
  }
}

// ipi_storm's "start" came after resolved scenarios were published: echoed only when set.
TEST(WorkloadRegistry, AKeyEchoedWhenSetAppearsOnlyOffItsDefault) {
  sim::Json w = {{"kind", "ipi_storm"}, {"vcpus", {0}}, {"targets", {1}}};
  auto s = tools::Scenario::from_json(scenario(sim::Json::array({w}), sim::Json::array()),
                                      "registry.json");
  EXPECT_FALSE(s->resolved()["guest"]["workloads"][0].contains("start"));
  w["start"] = "5us";
  s = tools::Scenario::from_json(scenario(sim::Json::array({w}), sim::Json::array()),
                                 "registry.json");
  EXPECT_EQ(s->resolved()["guest"]["workloads"][0]["start"], "5us");
}

TEST(Registries, HelpListsEveryCheckAndKindWithItsDoc) {
  const std::string help = tools::names_help(builtin());
  for (const cpu::CheckSpec& c : builtin().checks.entries())
    EXPECT_NE(help.find("\n  " + c.name + " "), std::string::npos) << c.name;
  for (const guest::WorkloadKind& k : builtin().workloads.entries())
    EXPECT_NE(help.find("\n  " + k.name + " "), std::string::npos) << k.name;
  const test::CliResult cli = test::run_cli({"validate", "--help"});
  EXPECT_EQ(cli.status, 0);
  EXPECT_NE(cli.out.find(help), std::string::npos) << cli.out;
}

// A plugin's view: copy the built-in registries, add a check with a bound and a workload kind,
// and hand the copy to the scenario. Both are validated, in the schema, attached and spawned;
// the built-in registries do not know them.
TEST(Registries, ACheckAndAKindAddedOutsideTheBuiltInListWorkLikeBuiltInOnes) {
  guest::Registries plugged = builtin();
  int attached = 0;
  cpu::CheckSpec deadline;
  deadline.name = "test_deadline";
  deadline.doc = "reports once, at limits.test_at";
  deadline.limits = {{"test_at", sim::kMillisecond, sim::kNanosecond, sim::kSecond, "when"}};
  deadline.attach = [&attached](cpu::Machine& m, sim::CheckSet& run) {
    ++attached;
    const int component = m.kernel().components().add("check.test_deadline", "check");
    m.kernel().at(run.limit("test_at"), sim::Phase::kCheck, component, [&m] {
      sim::Violation v;
      v.check = "test_deadline";
      v.time = m.kernel().now();
      v.message = "the deadline passed";
      m.violations().report(std::move(v));
    });
  };
  plugged.checks.add(deadline);
  std::vector<int> spawned;
  guest::WorkloadKind spinner;
  spinner.name = "test_spinner";
  spinner.doc = "computes `chunk` at a time, forever";
  spinner.keys = {"chunk"};
  spinner.spawn = [&spawned](guest::GuestOs& os, const guest::WorkloadParams& p, int v) {
    spawned.push_back(v);
    os.spawn(p, v, [&p](cpu::GuestCpu& cpu) {
      for (;;) cpu.compute(p.chunk.value);
    });
  };
  plugged.workloads.add(spinner);

  sim::Json doc =
      scenario(sim::Json::array({{{"kind", "test_spinner"}, {"vcpus", {0, 1}}, {"chunk", "1us"}}}),
               {"test_deadline", "no_hang"});
  doc["limits"] = {{"test_at", "1500us"}};
  EXPECT_NE(refusal(doc), "");  // the built-in registries refuse both
  EXPECT_EQ(builtin().checks.find("test_deadline"), nullptr);
  EXPECT_EQ(builtin().workloads.find("test_spinner"), nullptr);

  const sim::Json schema = tools::Scenario::schema(plugged);
  EXPECT_EQ(schema["properties"]["checks"]["items"]["enum"].back(), "test_deadline");
  EXPECT_TRUE(schema["properties"]["limits"]["properties"].contains("test_at"));
  EXPECT_EQ(schema["properties"]["guest"]["properties"]["workloads"]["items"]["properties"]["kind"]
                  ["enum"]
                      .back(),
            "test_spinner");

  const auto s = tools::Scenario::from_json(doc, "registry.json", {}, std::nullopt, plugged);
  const tools::RunResult r = tools::run_scenario(*s);
  EXPECT_EQ(attached, 1);
  EXPECT_EQ(spawned, (std::vector<int>{0, 1}));
  EXPECT_EQ(r.document["violation_counts"], (sim::Json{{"no_hang", 0}, {"test_deadline", 1}}));
  EXPECT_EQ(r.document["violations"][0]["time_ns"], 1.5e6);
  EXPECT_NE(r.document["fingerprint"],
            fingerprint(scenario(sim::Json::array(), sim::Json::array({"no_hang"}))));
}
