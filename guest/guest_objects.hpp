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
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

struct GuestObjectMetrics : sim::MetricGroup {
  GuestObjectMetrics() : MetricGroup("guest objects") {}
  sim::Metric allocated{*this, "objects.allocated", "count", "guest objects allocated"};
  sim::Counter freed{*this, "objects.freed", "guest objects freed"};
  sim::Counter use_after_free{*this, "objects.use_after_free",
                              "accesses to freed guest objects (reported or not)"};
};

class GuestObjects {
 public:
  static constexpr const char* kUseAfterFree = "use_after_free";
  using Handle = std::uint64_t;  // 0 is the null pointer

  GuestObjects(cpu::Machine& machine, GuestScheduler& sched) : machine_(machine), sched_(sched) {
    machine.declare_metrics(metrics_);
  }
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
  std::uint64_t freed() const { return metrics_.freed.value(); }
  std::uint64_t use_after_free() const { return metrics_.use_after_free.value(); }
  void collect_metrics(sim::Metrics& out) const {
    metrics_.collect(out);
    out.set(metrics_.allocated, allocated());
  }

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
  GuestObjectMetrics metrics_;
};

}  // namespace vcpusim::guest
