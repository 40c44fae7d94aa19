// The checks the machine feeds, as the registry declares them: no_deadlock and no_hang (the
// wait-for graph of the CPUs' waits), nmi_completes (every NMI handler returns in time) and
// no_lost_wakeup (no vCPU stays halted in pv_wait once its wake-up condition holds).
#pragma once
#include "cpu/check_registry.hpp"

namespace vcpusim::cpu {

// nmi_completes: every NMI handler returns within limits.nmi_max.
constexpr const char* kNmiCompletes = "nmi_completes";

CheckSpec no_deadlock_check();
CheckSpec no_hang_check();
CheckSpec nmi_completes_check();
CheckSpec no_lost_wakeup_check();

}  // namespace vcpusim::cpu
