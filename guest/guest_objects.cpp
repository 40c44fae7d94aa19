#include "guest/guest_objects.hpp"

#include "sim/error.hpp"

namespace vcpusim::guest {

GuestObjects::Handle GuestObjects::allocate(cpu::GuestCpu& cpu, const std::string& type,
                                            std::vector<std::string> fields) {
  Object o;
  o.name = type + "#" + std::to_string(objects_.size() + 1);
  cpu::Memory& mem = machine_.memory();
  const int line = mem.new_line();
  for (const std::string& f : fields) o.words.push_back(&mem.word(o.name + "." + f, line));
  o.fields = std::move(fields);
  objects_.push_back(std::move(o));
  const Handle h = objects_.size();
  for (std::size_t f = 0; f < objects_.back().words.size(); ++f)
    cpu.store(*objects_.back().words[f], 0);  // the allocator hands out zeroed memory (kzalloc)
  return h;
}

void GuestObjects::free(cpu::GuestCpu& cpu, Handle h, const char* where) {
  Object& o = obj(h);
  if (!o.live) throw sim::SimError("double free of " + o.name);
  cpu.compute(machine_.costs().load.value);  // the slab freelist push
  o.live = false;
  o.freed_at = cpu.now();
  o.freed_by_cpu = cpu.id();
  o.freed_by_task = sched_.current(cpu.id()).name;
  o.freed_where = where;
  ++metrics_.freed;
}

std::uint64_t GuestObjects::load(cpu::GuestCpu& cpu, Handle h, int field) {
  check(cpu, h, field, "read");
  return cpu.load(word(h, field));
}

void GuestObjects::store(cpu::GuestCpu& cpu, Handle h, int field, std::uint64_t v) {
  check(cpu, h, field, "write");
  cpu.store(word(h, field), v);
}

void GuestObjects::check(cpu::GuestCpu& cpu, Handle h, int field, const char* access) {
  const Object& o = obj(h);
  if (o.live) return;
  ++metrics_.use_after_free;
  if (!report_) return;
  const std::string what = o.name + "." + o.fields.at(static_cast<std::size_t>(field));
  const std::string task = sched_.current(cpu.id()).name;
  sim::Violation v;
  v.check = kUseAfterFree;
  v.time = cpu.now();
  v.cpus = {cpu.id(), o.freed_by_cpu};
  v.message = "vCPU" + std::to_string(cpu.id()) + " (task " + task + ") " + access + " " + what +
              ", freed at " + sim::format_time(o.freed_at) + " by vCPU" +
              std::to_string(o.freed_by_cpu) + " (task " + o.freed_by_task + ") in " +
              o.freed_where;
  v.details = {{"object", o.name},
               {"field", o.fields.at(static_cast<std::size_t>(field))},
               {"access", access},
               {"vcpu", cpu.id()},
               {"task", task},
               {"freed_at_ns", sim::to_ns(o.freed_at)},
               {"freed_by_vcpu", o.freed_by_cpu},
               {"freed_by_task", o.freed_by_task},
               {"freed_in", o.freed_where}};
  cpu.violations().report(std::move(v));
}

}  // namespace vcpusim::guest
