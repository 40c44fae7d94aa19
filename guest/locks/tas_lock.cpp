#include "guest/locks/tas_lock.hpp"

#include "guest/locks/qspinlock.hpp"

namespace vcpusim::guest {

TasLock::TasLock(LockKit& kit, const std::string& name)
    : Spinlock(name), val_(own_word(kit.machine(), "val")) {}

void TasLock::lock(cpu::GuestCpu& cpu) {
  cpu.wait([&] { return cpu.load(val_) == 0 && cpu.cmpxchg(val_, 0, QspinlockVal::kLocked) == 0; },
           cpu::WaitSpec::spin());
}

void TasLock::unlock(cpu::GuestCpu& cpu) {
  cpu.store_field(val_, QspinlockVal::kLockedMask, 0);
}

}  // namespace vcpusim::guest
