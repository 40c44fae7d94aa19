// Guest objects with a lifetime (kmalloc / kfree, mm/slab_common.c in spirit): each object is a
// few words on its own cacheline, reached by a handle. Accessing a freed object still reads or
// writes its stale memory, as on real hardware, and is reported as use_after_free naming the
// object, the accessing vCPU and task, the access, and where and when the object was freed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/sched.hpp"

namespace vcpusim::guest {

class GuestObjects {
 public:
  static constexpr const char* kUseAfterFree = "use_after_free";
  using Handle = std::uint64_t;  // 0 is the null pointer

  GuestObjects(cpu::Machine& machine, GuestScheduler& sched) : machine_(machine), sched_(sched) {}
  void set_reporting(bool on) { report_ = on; }

  // A new object named "<type>#<n>" with one word per field, all zero.
  Handle allocate(cpu::GuestCpu& cpu, const std::string& type, std::vector<std::string> fields);
  // kfree(); `where` names the code path that freed it.
  void free(cpu::GuestCpu& cpu, Handle h, const char* where);
  std::uint64_t load(cpu::GuestCpu& cpu, Handle h, int field);
  void store(cpu::GuestCpu& cpu, Handle h, int field, std::uint64_t v);

  bool live(Handle h) const { return obj(h).live; }
  const std::string& name(Handle h) const { return obj(h).name; }
  cpu::Word& word(Handle h, int field) { return *obj(h).words.at(static_cast<std::size_t>(field)); }
  std::uint64_t allocated() const { return objects_.size(); }
  std::uint64_t freed() const { return freed_; }
  std::uint64_t use_after_free() const { return uaf_; }

 private:
  struct Object {
    std::string name;
    std::vector<std::string> fields;
    std::vector<cpu::Word*> words;
    bool live = true;
    sim::Tick freed_at = 0;
    int freed_by_cpu = -1;
    std::string freed_by_task;
    std::string freed_where;
  };
  const Object& obj(Handle h) const { return objects_.at(static_cast<std::size_t>(h - 1)); }
  Object& obj(Handle h) { return objects_.at(static_cast<std::size_t>(h - 1)); }
  void check(cpu::GuestCpu& cpu, Handle h, int field, const char* access);

  cpu::Machine& machine_;
  GuestScheduler& sched_;
  bool report_ = false;
  std::vector<Object> objects_;
  std::uint64_t freed_ = 0;
  std::uint64_t uaf_ = 0;
};

}  // namespace vcpusim::guest
