#include "sim/record/components.hpp"

#include "sim/error.hpp"

namespace vcpusim::sim {

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

int Components::add(std::string name, std::string group, int index) {
  if (find(name) >= 0) throw SimError("component '" + name + "' is registered twice");
  const std::uint64_t key = stable_hash(name);
  entries_.push_back(Entry{std::move(name), std::move(group), index, key});
  return size() - 1;
}

const Components::Entry& Components::at(int id) const {
  if (id < 0 || id >= size()) throw SimError("no component with id " + std::to_string(id));
  return entries_[static_cast<std::size_t>(id)];
}

int Components::find(std::string_view name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace vcpusim::sim
