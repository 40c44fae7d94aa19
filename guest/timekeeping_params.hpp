// Parameters of the timekeeping model (scenario "guest.timekeeping" and "costs.timekeeping").
#pragma once
#include <vector>

#include "sim/config/config.hpp"

namespace vcpusim::guest {

enum class NtpDirection { kNone, kDown, kUp, kAlternating };
enum class TkVariant { kLegacy, kSplitPublish, kShadow, kReanchor };
enum class NmiVariant { kNaive, kOwnerShadow, kNoBarrier, kLatch };

// One adjtimex(ADJ_FREQUENCY) call: from `at` on, the NTP frequency offset is `freq`, in the
// kernel's scaled ppm (ppm << 16, struct timex's freq field).
struct NtpStep {
  sim::Tick at = 0;
  std::int64_t freq = 0;
};

// The scripted adjtimex schedule: frequency steps at given simulated times, in increasing order.
// Each entry is {"at": duration, "ppm": integer} or {"at": duration, "freq": scaled ppm}; both
// are bounded at +-MAXFREQ (500 ppm), where kernel/time/ntp.c clamps time_freq.
class NtpScheduleParam final : public sim::ParamBase {
 public:
  static constexpr std::int64_t kScaledPpm = 1 << 16;  // SHIFT_USEC
  static constexpr std::int64_t kMaxPpm = 500;         // MAXFREQ, 500000 ns/s
  NtpScheduleParam(sim::ParamSet& o, const char* name, const char* doc)
      : ParamBase(o, name, doc) {}
  void load(const sim::Node& n) override;
  sim::Json to_json() const override;
  sim::Json schema() const override;
  std::vector<NtpStep> value;
};

struct NtpParams : sim::ParamSet {
  NtpScheduleParam schedule{
      *this, "schedule",
      "adjtimex frequency steps [{\"at\": duration, \"ppm\": -500..500 or \"freq\": scaled ppm "
      "(ppm x 65536)}], times increasing: the kernel's NTP (kernel/time/ntp.c, "
      "timekeeping_adjust) turns each into a tick length and steers mult to it, dithering by "
      "+-1 on the accumulated NTP error; empty: frequency offset 0"};
  sim::EnumParam<NtpDirection> direction{
      *this,
      "direction",
      NtpDirection::kNone,
      {{"none", NtpDirection::kNone},
       {"down", NtpDirection::kDown},
       {"up", NtpDirection::kUp},
       {"alternating", NtpDirection::kAlternating}},
      "scripted study instead of the kernel's NTP: move mult by mult_steps at each adjustment, "
      "lowering it (cumulative), raising it, alternating down/up; none: the kernel's NTP runs "
      "with the schedule"};
  sim::IntParam mult_steps{*this,   "mult_steps",
                           0,       0,
                           1000000, "scripted study: size of one adjustment in mult units"};
  sim::IntParam every_ticks{*this, "every_ticks", 1,
                            1,     1000000,       "scripted study: adjust on every n-th update"};
  void validate(const sim::Node& node) const override;
};

struct TimekeepingParams : sim::ParamSet {
  TimekeepingParams() { add_section("ntp", ntp, "NTP frequency adjustment"); }
  sim::EnumParam<TkVariant> variant{
      *this,
      "variant",
      TkVariant::kShadow,
      {{"legacy", TkVariant::kLegacy},
       {"split-publish", TkVariant::kSplitPublish, "monotonic_time"},
       {"shadow", TkVariant::kShadow},
       {"reanchor", TkVariant::kReanchor}},
      "legacy: whole update under the write seqcount; split-publish: vDSO page "
      "published after the seqcount is released; shadow: mainline shadow "
      "timekeeper, vDSO and copy inside one write section; reanchor: the clock is "
      "read again inside the write section and the new line anchored there"};
  sim::EnumParam<NmiVariant> nmi_variant{
      *this,
      "nmi_variant",
      NmiVariant::kNaive,
      {{"naive", NmiVariant::kNaive, "nmi_completes"},
       {"owner-shadow", NmiVariant::kOwnerShadow},
       {"owner-shadow-no-barrier", NmiVariant::kNoBarrier, "nmi_completes"},
       {"latch", NmiVariant::kLatch}},
      "how NMI handlers read time (seed 000): naive: through tk_core's seqcount; owner-shadow: "
      "the writer records its CPU and a copy of the old timekeeper, with barriers, and an NMI on "
      "that CPU reads the copy; owner-shadow-no-barrier: the same without the barriers (the owner "
      "store may land after the sequence turns odd); latch: two copies, mainline's fast "
      "timekeeper"};
  sim::IntParam cpu{*this, "cpu", 0, 0, 1023, "the timekeeping vCPU (runs update_wall_time)"};
  sim::IntParam hz{*this, "hz", 250, 1, 10000, "tick rate of the timekeeping vCPU"};
  sim::IntParam shift{*this, "shift", 24, 1, 32, "clocksource shift"};
  NtpParams ntp;
};

// Costs of the update steps, beyond the memory operations they issue (MECHANISMS.md section 1).
// Defaults make the legacy write hold about twice the shadow one, as in seed 001 (8 us -> 4 us).
struct TimekeepingCosts : sim::ParamSet {
  sim::DurationParam accumulate{
      *this, "accumulate",      1500 * sim::kNanosecond,
      0,     sim::kMillisecond, "accumulating whole tick intervals into the shadow timekeeper"};
  sim::DurationParam ntp_adjust{
      *this, "ntp_adjust",      2500 * sim::kNanosecond,
      0,     sim::kMillisecond, "timekeeping_adjust: NTP error and the new mult"};
  sim::DurationParam copy{*this,
                          "copy",
                          3300 * sim::kNanosecond,
                          0,
                          sim::kMillisecond,
                          "copying the shadow into the readers' timekeeper (beyond its stores)"};
  sim::DurationParam vsyscall{*this, "vsyscall",        400 * sim::kNanosecond,
                              0,     sim::kMillisecond, "update_vsyscall work (beyond its stores)"};
  sim::DurationParam read_compute{*this, "read_compute",    10 * sim::kNanosecond,
                                  0,     sim::kMillisecond, "a reader's multiply and shift"};
};

}  // namespace vcpusim::guest
