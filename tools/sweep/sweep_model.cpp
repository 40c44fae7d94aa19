#include "tools/sweep/sweep_model.hpp"

#include <cmath>

#include "cpu/host/host_thread.hpp"
#include "guest/timekeeping_laws.hpp"
#include "tools/run/scenario.hpp"

namespace vcpusim::tools {
namespace {

double ns(sim::Tick t) {
  return sim::to_ns(t);
}

// "vdso-preemption" (MECHANISMS.md section 1, seed 001). The timekeeping vCPU anchors the new
// line at c0 and readers switch to it only when the vDSO page is published. A poisson load task
// on its pCPU (busy ~ Exp(B), idle ~ Exp(I), load rho = B/(B+I)) that wakes inside the window w
// from c0 to the vDSO sequence turning odd preempts it for its busy time X; the first vDSO read
// after the publish is then behind by S = (X + w) * dmult/mult, a violation when S exceeds g, the
// time between the clock samples of the last read on the old line and the first on the new one.
// w, W (the time the vDSO sequence is odd), the read, mult and the NTP steps are the model's
// laws (guest/timekeeping_laws.hpp), which tests/timekeeping_laws_test.cpp measures on it.
//   updates per run   U = T * hz * (1 - rho * exp(-P/B)), P = 1/hz: ticks while the vCPU runs,
//                       plus one catch-up after each busy period that covers a tick
//   hit per update    h = 1 - exp(-w/I)              (arrivals while idle are memoryless)
//   long enough       q = E[exp(-(g * r - w) / B)], r = mult/dmult with mult taken mid-run (NTP
//                       lowers it by dmult at each adjustment), averaged over the reader's phase:
//                       a reader sampling every R (think time + one read) whose last old sample
//                       is u ~ U(0, R) before the vDSO sequence turns odd (for W) samples
//                       next at R after it (u < R - W) or, when that attempt falls inside W,
//                       just after it (g = u + W): q = [u0 f(R) + (B/r)(f(u0 + W) - f(R + W))]
//                       / R with u0 = max(0, R - W) and f(g) = exp(-(g r - w)/B)
//   P(run violates)   1 - (1 - h*q)^(U * f), f the fraction of updates that lower mult
// The form takes the load task to keep the pCPU for its whole busy time X once it preempts the
// vCPU: true when the fair policy gives it nearly all of the CPU, i.e. its nice weight is at
// least kDominantWeight times the vCPU thread's (nice -20 against 0 is 88761 / 1024 = 87x).
// With a weaker load (nice 0 against 0: 1x), CFS shares the pCPU, the vCPU publishes long before
// X ends and the form overestimates. kernel/sched/core.c sched_prio_to_weight (v6.8): each nice
// step is about 1.25x, so 10x is about 10 nice levels.
constexpr double kDominantWeight = 10;

std::string vdso_preemption_assumption(const Scenario& s, const cpu::LoadParams& load) {
  const double load_weight =
      static_cast<double>(cpu::nice_to_weight(static_cast<int>(load.nice.value)));
  const double vcpu_weight =
      static_cast<double>(cpu::nice_to_weight(static_cast<int>(s.vm.nice.value)));
  if (load_weight >= kDominantWeight * vcpu_weight) return "";
  return "the vdso-preemption closed form assumes the load task keeps the pCPU for its whole "
         "busy time (its nice weight at least 10x the vCPU thread's, e.g. nice -20 against 0); "
         "here the load runs at nice " +
         std::to_string(load.nice.value) + " against the vCPU's nice " +
         std::to_string(s.vm.nice.value) + " (" +
         std::to_string(static_cast<long long>(load_weight)) + " / " +
         std::to_string(static_cast<long long>(vcpu_weight)) +
         "), so the fair policy shares the pCPU and the form overestimates";
}

std::optional<double> vdso_preemption(const Scenario& s, std::string& warning) {
  const auto& tk = s.guest.timekeeping;
  const auto& c = s.costs;
  const auto& ct = s.costs.timekeeping;
  if (s.host.load.empty()) return 0.0;
  if (s.host.load.size() != 1) return std::nullopt;
  const cpu::LoadParams& load = *s.host.load[0];
  const auto cpu = static_cast<std::size_t>(tk.cpu.value);
  if (load.kind.value != cpu::LoadKind::kPoisson || cpu >= s.vm.pinning.size() ||
      s.vm.pinning[cpu].size() != 1 || load.cpus.value.size() != 1 ||
      load.cpus.value[0] != s.vm.pinning[cpu][0])
    return std::nullopt;
  warning = vdso_preemption_assumption(s, load);
  namespace law = guest::tk_law;
  const guest::TkVariant v = tk.variant.value;
  // reanchor anchors the new line inside the vDSO write section: no window.
  if (v == guest::TkVariant::kReanchor) return 0.0;
  const double window_ns = ns(law::vdso_publish_window(v, ct, c));
  // Fraction of updates that lower mult.
  double lowering = static_cast<double>(law::lowering_per_period(tk.ntp.direction.value)) /
                    static_cast<double>(law::kNtpPeriod);
  if (lowering == 0) return 0.0;
  lowering /= static_cast<double>(tk.ntp.every_ticks.value);
  const std::int64_t mult0 = law::initial_mult(s.vm.tsc_frequency.value, tk.shift.value);
  const double mult = static_cast<double>(mult0);
  const double step = static_cast<double>(law::ntp_step(tk.ntp, mult0));
  // R: a vDSO reader's period (think time, then a read); W: the time the vDSO sequence is odd.
  double period_ns = -1;
  for (const auto& w : s.guest.workloads)
    if (w->kind.value == "vdso_reader") period_ns = ns(w->think.value);
  if (period_ns < 0) return 0.0;  // nobody reads the vDSO
  period_ns += ns(law::vdso_read(ct, c));
  const double section_ns = ns(law::vdso_odd_time(v, ct, c));
  const double busy = ns(load.busy.value), idle = ns(load.idle.value);
  if (busy <= 0) return 0.0;
  if (idle <= 0) return std::nullopt;  // always busy: the vCPU never runs
  const double rho = busy / (busy + idle);
  const double period = 1e9 / static_cast<double>(tk.hz.value);
  const double updates = ns(s.duration) / period * (1 - rho * std::exp(-period / busy));
  const double hit = 1 - std::exp(-window_ns / idle);
  // The steps accumulate (mult falls by `step` at each lowering update): take mult mid-run.
  const double mult_mid = std::max(step, mult - step * updates * lowering / 2);
  const double r = mult_mid / step;
  auto f = [&](double gap) { return std::exp(-std::max(0.0, gap * r - window_ns) / busy); };
  const double u0 = std::max(0.0, period_ns - section_ns);
  // The integral assumes gap * r > w over [u0 + W, R + W]: W * r is about a millisecond, w micro.
  const double long_enough =
      (u0 * f(period_ns) + busy / r * (f(u0 + section_ns) - f(period_ns + section_ns))) / period_ns;
  return 1 - std::pow(1 - hit * long_enough, updates * lowering);
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> kNames = {"vdso-preemption"};
  return kNames;
}

std::optional<double> predict_violation_probability(const std::string& model,
                                                    const Scenario& scenario,
                                                    std::string* warning) {
  std::string why;
  std::optional<double> p;
  if (model == "vdso-preemption") p = vdso_preemption(scenario, why);
  if (warning) *warning = p ? why : "";
  return p;
}

}  // namespace vcpusim::tools
