// Parameters of the timekeeping model (scenario "guest.timekeeping" and "costs.timekeeping").
#pragma once
#include "sim/config.hpp"

namespace vcpusim::guest {

enum class NtpDirection { kNone, kDown, kUp, kAlternating };
enum class TkVariant { kLegacy, kSplitPublish, kShadow, kReanchor };
enum class NmiVariant { kNaive, kOwnerShadow, kNoBarrier, kLatch };

struct NtpParams : sim::ParamSet {
  sim::EnumParam<NtpDirection> direction{
      *this,
      "direction",
      NtpDirection::kNone,
      {{"none", NtpDirection::kNone},
       {"down", NtpDirection::kDown},
       {"up", NtpDirection::kUp},
       {"alternating", NtpDirection::kAlternating}},
      "how NTP moves mult at each adjustment: lower it (slew the clock slower, "
      "cumulative), raise it, alternate down/up, or leave it"};
  sim::RealParam ppm{*this, "ppm",
                     0,     0,
                     500,   "size of one adjustment in parts per million of mult (MAXFREQ is 500)"};
  sim::IntParam mult_steps{*this,   "mult_steps",
                           0,       0,
                           1000000, "size of one adjustment in mult units (use instead of ppm)"};
  sim::IntParam every_ticks{*this, "every_ticks", 1,
                            1,     1000000,       "adjust on every n-th timekeeping update"};
  void validate(const sim::Node& node) const override;
  // Only the step form in use, so a resolved scenario loads again.
  sim::Json to_json() const override;
};

struct TimekeepingParams : sim::ParamSet {
  TimekeepingParams() { add_section("ntp", ntp, "NTP frequency adjustment"); }
  sim::EnumParam<TkVariant> variant{
      *this,
      "variant",
      TkVariant::kShadow,
      {{"legacy", TkVariant::kLegacy},
       {"split-publish", TkVariant::kSplitPublish},
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
      {{"naive", NmiVariant::kNaive},
       {"owner-shadow", NmiVariant::kOwnerShadow},
       {"owner-shadow-no-barrier", NmiVariant::kNoBarrier},
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
