#include "guest/locks/lock_params.hpp"

#include "guest/locks/lock_registry.hpp"

namespace vcpusim::guest {

LockParams::LockParams(const LockRegistry& algorithms)
    : algorithms_(algorithms),
      kind_doc_(lock_algorithms_doc(algorithms)),
      kind(*this, "kind", "pvqspinlock", algorithms.names(), kind_doc_.c_str()) {}

void LockParams::validate(const sim::Node& node) const {
  if (kind.value == "pvticket" && era.value != LockEra::k2015)
    node.at("era").fail(
        "pvticket with era \"" + std::string(era.text()) + "\"",
        "\"2015\": the paravirt ticket lock left mainline when pvqspinlock replaced it, before "
        "the 2016 changes");
  const std::int64_t n = pv_hash_entries.value;
  if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
    node.at("pv_hash_entries")
        .fail("pv_hash_entries is " + std::to_string(n), "0 or a power of two >= 4");
}

}  // namespace vcpusim::guest
