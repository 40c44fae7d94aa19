#include "tools/run/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cpu/check_registry.hpp"
#include "cpu/ftrace/host_ftrace.hpp"
#include "cpu/machine.hpp"
#include "guest/guest_os.hpp"
#include "sim/checks/check_set.hpp"
#include "sim/core/decision.hpp"
#include "sim/core/kernel.hpp"
#include "tools/run/trace_io.hpp"

namespace vcpusim::tools {
namespace {
constexpr std::size_t kCoherenceTopLines = 10;  // the busiest cachelines listed in the result
}  // namespace

RunResult run_scenario(const Scenario& s, const RunOptions& options) {
  sim::Kernel kernel;
  kernel.set_temporal_decoupling(options.temporal_decoupling);
  kernel.set_lookahead(options.lookahead);
  kernel.use_stacks(options.stacks);
  kernel.recorder().keep_events(options.keep_events);
  if (options.poll) kernel.set_poll(options.poll);
  kernel.set_step_budget(options.max_steps);
  sim::RandomDecisionSource decisions(s.seed, kernel.components());
  decisions.set_steer(options.steer);
  cpu::Machine machine(kernel, decisions, s.host, s.vm, s.costs);
  machine.set_observer(options.observer);
  machine.set_verify_footprints(options.verify_footprints);
  sim::CheckSet checks(s.checks, s.limits.values());
  cpu::attach_checks(s.registries.checks, machine, checks);
  guest::GuestOs os(machine, s.guest, s.costs.timekeeping, checks);
  machine.count_accesses_to(options.counted_words);
  machine.inject(options.injections);
  if (options.prepare) options.prepare(machine);
  sim::TraceBuilder* trace = options.trace ? options.trace(kernel.components()) : nullptr;
  std::unique_ptr<cpu::HostFtraceWriter> host_trace;
  if (options.host_trace)
    host_trace = std::make_unique<cpu::HostFtraceWriter>(*options.host_trace, machine.scheduler(),
                                                         options.host_trace_ns);
  std::unique_ptr<sim::EventTee> tee;
  if (trace && host_trace) tee = std::make_unique<sim::EventTee>(*trace, *host_trace);
  sim::EventSink* sink = tee ? static_cast<sim::EventSink*>(tee.get())
                         : trace ? static_cast<sim::EventSink*>(trace)
                                 : host_trace.get();
  if (sink) kernel.recorder().set_sink(sink);
  if (trace)
    machine.violations().set_observer(
        [trace](const sim::Violation& v) { trace->violation(trace_violation(v)); });
  machine.run(s.duration);
  if (sink) kernel.recorder().set_sink(nullptr);
  if (trace) {
    machine.violations().set_observer(nullptr);
    trace->finish();
  }
  if (host_trace) host_trace->finish(kernel.now());

  sim::Metrics& metrics = machine.metrics();
  os.collect_metrics(metrics);
  checks.collect_metrics(metrics);

  RunResult r;
  r.complete = !kernel.interrupted();
  r.budget_exceeded = kernel.budget_exceeded();
  r.kernel_events = kernel.events_processed();
  r.lookahead_steps = kernel.lookahead_steps();
  for (int v = 0; v < machine.vcpu_count(); ++v) r.guest_accesses.push_back(machine.vcpu(v).accesses());
  if (!machine.violations().list().empty()) {
    const auto& list = machine.violations().list();
    const sim::Violation& first = *std::min_element(
        list.begin(), list.end(),
        [](const sim::Violation& a, const sim::Violation& b) { return a.time < b.time; });
    r.failure = {failure_signature(first.check, first.message), first.check, first.time,
                 first.message};
  }
  r.unmet = s.expect.evaluate(metrics, machine.violations());
  if (s.expect.empty() && machine.violations().total() > 0)
    r.unmet.push_back("violations occurred and the scenario expects none");
  if (kernel.interrupted())
    r.unmet.push_back("the run was interrupted at " + sim::format_time(kernel.now()) + " of " +
                      sim::format_time(s.duration) + ": a partial result");
  r.expect_met = r.unmet.empty();
  sim::Json violations = sim::Json::array();
  for (const auto& v : machine.violations().list()) violations.push_back(v.to_json());
  sim::Json counts = sim::Json::object();
  for (const auto& c : s.checks) counts[c] = machine.violations().count(c);
  r.document = {{"scenario", s.resolved()},
                {"seed", s.seed},
                {"complete", r.complete},
                {"simulated_ns", kernel.now() / sim::kNanosecond},
                {"fingerprint", kernel.recorder().fingerprint()},
                {"events", kernel.recorder().count()},
                {"metrics", metrics.to_json()},
                {"histograms", metrics.histograms_json()},
                {"coherence", machine.memory().coherence().report(kCoherenceTopLines)},
                {"violation_counts", counts},
                {"violations", violations},
                {"expect_met", r.expect_met},
                {"expect_unmet", r.unmet}};
  if (options.keep_events) {
    r.events = kernel.recorder().take_events();
    r.labels = kernel.recorder().labels();
    r.components = kernel.components();
  }
  return r;
}

std::vector<std::string> metric_groups(const Scenario& s) {
  sim::Kernel kernel;
  sim::RandomDecisionSource decisions(s.seed, kernel.components());
  cpu::Machine machine(kernel, decisions, s.host, s.vm, s.costs);
  sim::CheckSet checks(s.checks, s.limits.values());
  cpu::attach_checks(s.registries.checks, machine, checks);
  guest::GuestOs os(machine, s.guest, s.costs.timekeeping, checks);
  std::vector<std::string> out;
  for (const sim::MetricGroup* g : machine.metric_groups()) out.push_back(g->name());
  return out;
}

namespace {
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A metric in ns (an integer, or a histogram's fractional value) as a time by the one rule
// (sim::format_time); "-" when the run did not produce it.
std::string ns_time(const sim::Json& m, const std::string& key) {
  if (!m.contains(key) || !m[key].is_number()) return "-";
  return sim::format_time(std::llround(m[key].get<double>() * sim::kNanosecond));
}

// "p50/p99/max 25ns/25ns/527ns" for a latency histogram metric (prefix "x.latency_ns.").
std::string quantiles(const sim::Json& m, const std::string& prefix,
                      std::initializer_list<const char*> stats) {
  std::string names, values;
  for (const char* q : stats) {
    names += (names.empty() ? "" : "/") + std::string(q);
    values += (values.empty() ? "" : "/") + ns_time(m, prefix + q);
  }
  return names + " " + values;
}
}  // namespace

namespace {
// lock_torture: the whole run, then each lock (up to eight of them).
void summarize_locks(const sim::Json& m, std::ostringstream& out) {
  auto line = [&](const std::string& p, const std::string& label) {
    out << "  " << label << ": " << m[p + "acquisitions"] << " acquisitions ("
        << fmt("%.0f", m[p + "acquisitions_per_s"].get<double>()) << "/s), wait " << quantiles(m, p + "wait_ns.", {"p50", "p99", "max"})
        << ", spinning " << ns_time(m, p + "spin_ns") << ", halted " << ns_time(m, p + "halted_ns")
        << "\n    holder preemptions "
        << m[p + "holder_preemptions"] << ", waiter preemptions " << m[p + "waiter_preemptions"]
        << ", kicks " << m[p + "kicks"] << ", halts " << m[p + "halts"] << ", PLE exits "
        << m[p + "ple_exits"];
    if (m.contains(p + "transfers_per_acquisition"))
      out << ", cacheline transfers per acquisition "
          << fmt("%.1f", m[p + "transfers_per_acquisition"].get<double>());
    out << "\n";
  };
  line("locks.", "locks (" + m["locks.kind"].get<std::string>() + ")");
  for (int i = 0; i < 8 && m.contains("locks.lock" + std::to_string(i) + ".acquisitions"); ++i)
    line("locks.lock" + std::to_string(i) + ".", "lock" + std::to_string(i));
}
}  // namespace

// IPIs, cross-CPU calls and NMI time reads, for the scenarios that have them.
void summarize_interrupts(const Scenario& s, const sim::Json& m, std::ostringstream& out) {
  auto val = [&m](const std::string& k) { return m.contains(k) ? m[k].dump() : std::string("-"); };
  if (m.contains("ipi.sent")) {
    out << "  IPIs: " << m["ipi.sent"] << " sent (" << m["ipi.sender_exits"]
        << " sender exits); latency to handler p50/max:";
    for (const char* st : {"running", "halted", "preempted"})
      out << " " << st << " " << ns_time(m, std::string("ipi.latency_ns.") + st + ".p50") << "/"
          << ns_time(m, std::string("ipi.latency_ns.") + st + ".max");
    out << "\n";
  }
  if (m.contains("smp_call.calls"))
    out << "  cross-CPU calls (" << s.guest.smp_call.variant.text() << "): " << m["smp_call.calls"]
        << " made, " << m["smp_call.refused"] << " refused, function runs " << m["smp_call.runs"]
        << "/" << m["smp_call.expected_runs"] << " (duplicates " << m["smp_call.duplicate_runs"]
        << ", not run " << m["smp_call.not_run"] << "), callers finished "
        << m["smp_call.callers_finished"] << ", completion latency "
        << quantiles(m, "smp_call.latency_ns.", {"p50", "max"}) << "\n";
  if (m.contains("kvm.halt_wakeup_ns.count"))
    out << "  halted vCPUs woken by a kick or IPI: " << m["kvm.halt_wakeup_ns.count"]
        << ", latency to guest code " << quantiles(m, "kvm.halt_wakeup_ns.", {"p50", "max"})
        << "; halt-polling caught " << m["kvm.halt_poll_success"]
        << ", slept after polling " << m["kvm.halt_poll_fail"] << "\n";
  if (m.contains("locks.acquisitions")) summarize_locks(m, out);
  if (m.contains("nmi.taken"))
    out << "  NMIs (" << s.guest.timekeeping.nmi_variant.text() << "): " << m["nmi.taken"]
        << " taken, " << m["nmi.dropped"] << " dropped, handler "
        << quantiles(m, "nmi.handler_ns.", {"p50", "max"}) << "; time reads "
        << val("nmi_time.reads") << " (" << val("nmi_time.shadow_reads") << " from the shadow)\n";
}

namespace {
// Cacheline transfers by distance and the busiest lines (the result JSON has the rest).
void summarize_coherence(const sim::Json& c, std::ostringstream& out) {
  out << "  coherence: " << c["transfers"] << " cacheline transfers (same core " << c["same_core"]
      << ", same socket " << c["same_socket"] << ", cross socket " << c["cross_socket"] << "), "
      << c["invalidations"] << " invalidations, " << ns_time(c, "queued_ns") << " queued";
  const auto& lines = c["top_lines"];
  for (std::size_t i = 0; i < lines.size() && i < 3; ++i)
    out << (i == 0 ? "; busiest lines: " : ", ") << lines[i]["name"].get<std::string>() << " "
        << lines[i]["transfers"];
  out << "\n";
}
}  // namespace
// RCU, SRCU domains and mmu notifiers, for the scenarios that have them.
void summarize_rcu(const Scenario& s, const sim::Json& m, std::ostringstream& out) {
  auto val = [&m](const std::string& k) { return m.contains(k) ? m[k].dump() : std::string("-"); };
  if (!m.contains("rcu.grace_periods")) return;
  out << "  RCU: " << m["rcu.grace_periods"] << " grace periods ("
      << fmt("%.0f", m["rcu.grace_periods_per_sec"].get<double>())
      << "/s), synchronize_rcu " << quantiles(m, "rcu.sync_latency_ns.", {"p50", "p99", "max"})
      << ", callbacks pending p50/max " << val("rcu.callbacks_pending.p50") << "/"
      << val("rcu.callbacks_pending.max") << "\n";
  if (m.contains("rcu.longest_gp")) {
    const sim::Json& g = m["rcu.longest_gp"];
    out << "  longest grace period: #" << g["gp"] << ", " << ns_time(g, "duration_ns") << " from "
        << ns_time(g, "start_ns") << ", held by";
    if (g["held_by"].empty()) out << " nobody past rcu.long_gp";
    for (const auto& c : g["held_by"]) out << " vCPU" << c;
    out << "\n";
  }
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& k = it.key();
    const std::string tail = ".grace_periods";
    if (k.rfind("srcu.", 0) != 0 || k.size() < tail.size() ||
        k.compare(k.size() - tail.size(), tail.size(), tail) != 0)
      continue;
    const std::string d = k.substr(0, k.size() - tail.size());
    out << "  SRCU " << d.substr(5) << ": " << it.value() << " grace periods, synchronize_srcu "
        << quantiles(m, d + ".sync_latency_ns.", {"p50", "max"}) << "\n";
  }
  if (m.contains("mmu_notifier.invalidations"))
    out << "  mmu notifiers (" << s.guest.mmu_notifier.variant.text()
        << "): " << m["mmu_notifier.invalidations"] << " invalidate walks ("
        << m["mmu_notifier.walk_restarts"] << " restarts), " << m["mmu_notifier.methods_called"]
        << " methods, " << m["mmu_notifier.registered"] << " registered, "
        << m["mmu_notifier.unregistered"] << " unregistered and freed; freed objects accessed "
        << m["objects.use_after_free"] << " times\n";
}

std::string summarize(const Scenario& s, const RunResult& r) {
  const sim::Json& m = r.document["metrics"];
  std::ostringstream out;
  out << "scenario " << sim::printable(s.name) << " (seed " << s.seed << ", "
      << sim::format_duration(s.duration) << " simulated)\n";
  out << "  host: " << s.host.pcpus.value << " pCPUs, " << s.host.scheduler.policy.text()
      << " scheduler, " << s.host.load.size() << " load task(s); vm: " << s.vm.vcpus.value
      << " vCPUs; timekeeping variant " << s.guest.timekeeping.variant.text() << "\n";
  for (std::int64_t c = 0; c < s.host.pcpus.value; ++c) {
    const std::string p = "host.pcpu" + std::to_string(c);
    out << "  pCPU" << c << ": load " << fmt("%.1f%%", m[p + ".load_fraction"].get<double>() * 100)
        << ", vCPUs " << fmt("%.1f%%", m[p + ".vcpu_fraction"].get<double>() * 100) << "\n";
  }
  for (std::int64_t v = 0; v < s.vm.vcpus.value; ++v) {
    const std::string p = "vcpu" + std::to_string(v);
    out << "  vCPU" << v << ": run " << ns_time(m, p + ".run_ns") << ", steal "
        << ns_time(m, p + ".steal_ns") << ", halted " << ns_time(m, p + ".halted_ns") << "\n";
  }
  for (const char* clock : {"vdso", "ktime"}) {
    const std::string p = std::string("reader_latency_ns.") + clock;
    if (!m.contains(p + ".count")) continue;
    out << "  " << clock << " reads: " << m[p + ".count"] << ", latency "
        << quantiles(m, p + ".", {"min", "p50", "p99", "max"}) << ", seqcount retries " << m.value("seqcount_retries." + std::string(clock), 0) << "\n";
  }
  out << "  timekeeping: " << m["timekeeping.updates"] << " updates, mult "
      << m["timekeeping.mult_initial"] << " -> " << m["timekeeping.mult_final"] << "\n";
  summarize_interrupts(s, m, out);
  summarize_coherence(r.document["coherence"], out);
  summarize_rcu(s, m, out);
  const auto& counts = r.document["violation_counts"];
  out << "violations:";
  if (counts.empty()) out << " (no checks enabled)";
  for (auto it = counts.begin(); it != counts.end(); ++it)
    out << " " << it.key() << " " << it.value();
  out << "\n";
  std::size_t shown = 0;
  for (const auto& v : r.document["violations"]) {
    if (++shown > 5) {
      out << "  ... (all of them in --json)\n";
      break;
    }
    out << "  at " << ns_time(v, "time_ns") << ": " << sim::printable(v["message"].get<std::string>());
    const auto& d = v["details"];
    if (d.contains("predicted_step_ns"))
      out << "; model predicts " << ns_time(d, "predicted_step_ns") << " at the reads ("
          << ns_time(d, "read_spacing_ns") << " apart), the publish-delay term being "
          << ns_time(d, "publish_delay_term_ns") << " (publish delay "
          << ns_time(d, "publish_delay_ns") << " x " << d["mult_old"].get<std::int64_t>() - d["mult_new"].get<std::int64_t>()
          << "/" << d["mult_old"] << ")";
    out << "\n";
  }
  out << "expect: " << (r.expect_met ? "met" : "NOT met") << "\n";
  for (const auto& u : r.unmet) out << "  - " << sim::printable(u) << "\n";
  out << "fingerprint: " << r.document["fingerprint"].get<std::string>() << "\n";
  return out.str();
}

}  // namespace vcpusim::tools
