// Parameters of the RCU, SRCU and mmu-notifier models (scenario "guest.rcu", "guest.mmu_notifier").
#pragma once
#include "sim/config/config.hpp"

namespace vcpusim::guest {

struct RcuParams : sim::ParamSet {
  sim::IntParam gp_cpu{*this, "gp_cpu", 0,
                       0,     1023,     "vCPU the grace-period kthread (rcu_gp_kthread) runs on"};
  // RCU_JIFFIES_TILL_FORCE_QS is 1 jiffy at HZ=250 (kernel/rcu/tree.h).
  sim::DurationParam fqs_interval{*this,
                                  "fqs_interval",
                                  4 * sim::kMillisecond,
                                  sim::kMicrosecond,
                                  sim::kSecond,
                                  "time between force-quiescent-state scans of a grace period "
                                  "(jiffies_till_first_fqs / jiffies_till_next_fqs)"};
  sim::DurationParam stall_timeout{*this,
                                   "stall_timeout",
                                   21 * sim::kSecond,
                                   sim::kMicrosecond,
                                   1000 * sim::kSecond,
                                   "rcu_stall: a grace period longer than this is reported with "
                                   "the CPUs it still waits for (CONFIG_RCU_CPU_STALL_TIMEOUT)"};
  sim::DurationParam long_gp{*this,
                             "long_gp",
                             sim::kMillisecond,
                             sim::kNanosecond,
                             1000 * sim::kSecond,
                             "a grace period longer than this is listed in rcu.long_gps with "
                             "the CPUs that held it (had not reported a quiescent state by then)"};
  sim::DurationParam callback_cost{*this, "callback_cost",   50 * sim::kNanosecond,
                                   0,     sim::kMillisecond, "cost of invoking one RCU callback"};
  // SRCU_INTERVAL is one jiffy (kernel/rcu/srcutree.c); 4 ms at HZ=250.
  sim::DurationParam srcu_interval{*this,
                                   "srcu_interval",
                                   4 * sim::kMillisecond,
                                   sim::kMicrosecond,
                                   sim::kSecond,
                                   "SRCU: sleep between two reader scans once the quick "
                                   "re-checks (srcu_retry_check_delay, 5us apart) failed"};
};

enum class MmuNotifierVariant { kRcu, kRcuSeqlock, kSrcu };

struct MmuNotifierParams : sim::ParamSet {
  sim::EnumParam<MmuNotifierVariant> variant{
      *this,
      "variant",
      MmuNotifierVariant::kSrcu,
      {{"rcu", MmuNotifierVariant::kRcu, "use_after_free"},
       {"rcu-seqlock", MmuNotifierVariant::kRcuSeqlock},
       {"srcu", MmuNotifierVariant::kSrcu}},
      "rcu: walk the list under rcu_read_lock while a method sleeps (broken: unregister's grace "
      "period can end under the walker); rcu-seqlock: drop the RCU read lock around each method "
      "and restart the walk when the list's seqcount moved (seed 004); srcu: walk inside an SRCU "
      "read section (Linux since 2012)"};
  sim::IntParam initial{*this, "initial", 2,
                        0,     64,        "notifiers registered at boot (never unregistered)"};
  sim::DurationParam method_sleep{*this, "method_sleep", 20 * sim::kMicrosecond,
                                  0,     sim::kSecond,   "how long each invalidate method sleeps"};
  sim::DurationParam method_work{*this, "method_work",     500 * sim::kNanosecond,
                                 0,     sim::kMillisecond, "computation of each invalidate method"};
};

}  // namespace vcpusim::guest
