// The checks the guest feeds or reports, as the registry declares them: monotonic_time (the
// clock readers' values), api_misuse (cross-CPU calls), rcu_reader_spans_gp and rcu_stall (the
// RCU monitor), use_after_free (guest objects), mutual_exclusion (lock_torture's locks) and
// hash_lookup (the pvqspinlock's lock hash).
#pragma once
#include "cpu/check_registry.hpp"

namespace vcpusim::guest {

cpu::CheckSpec monotonic_time_check();
cpu::CheckSpec api_misuse_check();
cpu::CheckSpec rcu_reader_spans_gp_check();
cpu::CheckSpec rcu_stall_check();
cpu::CheckSpec use_after_free_check();
cpu::CheckSpec mutual_exclusion_check();
cpu::CheckSpec hash_lookup_check();

}  // namespace vcpusim::guest
