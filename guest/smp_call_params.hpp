// Parameters of the cross-CPU call model (scenario "guest.smp_call").
#pragma once
#include "sim/config/config.hpp"

namespace vcpusim::guest {

enum class SmpCallVariant { kIrqsOffAllowed, kAssert, kPollOwnQueue, kGlobalLock };

struct SmpCallParams : sim::ParamSet {
  sim::EnumParam<SmpCallVariant> variant{
      *this,
      "variant",
      SmpCallVariant::kAssert,
      {{"irqs-off-allowed", SmpCallVariant::kIrqsOffAllowed, "no_deadlock"},
       {"assert-irqs-enabled", SmpCallVariant::kAssert, "api_misuse"},
       {"poll-own-queue", SmpCallVariant::kPollOwnQueue},
       {"global-lock", SmpCallVariant::kGlobalLock}},
      "irqs-off-allowed: callers may wait with irqs off (two such callers can deadlock); "
      "assert-irqs-enabled: mainline, a call with irqs off is reported (api_misuse) and not "
      "made; poll-own-queue: a waiting caller runs its own call queue (seed 002 idea #5); "
      "global-lock: one call in the system at a time, waiting for the lock with irqs on (seed "
      "002 idea #1)"};
};

}  // namespace vcpusim::guest
