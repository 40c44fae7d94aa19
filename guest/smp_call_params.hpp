// Parameters of the cross-CPU call model (scenario "guest.smp_call").
#pragma once
#include "sim/config.hpp"

namespace vcpusim::guest {

// In the order of `variant`'s choices (sim::EnumParam::as).
enum class SmpCallVariant { kIrqsOffAllowed, kAssert, kPollOwnQueue, kGlobalLock };

struct SmpCallParams : sim::ParamSet {
  sim::EnumParam variant{
      *this,
      "variant",
      "assert-irqs-enabled",
      {"irqs-off-allowed", "assert-irqs-enabled", "poll-own-queue", "global-lock"},
      "irqs-off-allowed: callers may wait with irqs off (two such callers can deadlock); "
      "assert-irqs-enabled: mainline, a call with irqs off is reported (api_misuse) and not "
      "made; poll-own-queue: a waiting caller runs its own call queue (seed 002 idea #5); "
      "global-lock: one call in the system at a time, waiting for the lock with irqs on (seed "
      "002 idea #1)"};
};

}  // namespace vcpusim::guest
