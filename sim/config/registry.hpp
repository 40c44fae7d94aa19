// A registry: the things of one sort a scenario can name (checks, workload kinds; later metrics
// and locks), each declared once as an entry with at least a `name` and a `doc`. The schema, the
// --help text, the known-name list of a validation message and the wiring are all derived from
// the entries, never kept beside them. A registry is a value: the built-in one is filled by the
// layer that declares the entries, and a caller may copy it and add more (a plugin, a test).
// Entries keep declaration order, so every list derived from a registry is the same on every
// run; a name is declared once.
#pragma once
#include <string>
#include <vector>

#include "sim/error.hpp"

namespace vcpusim::sim {

template <class Entry>
class Registry {
 public:
  // `what` names an entry in messages ("check", "workload kind").
  explicit Registry(std::string what) : what_(std::move(what)) {}

  // Declares `entry` after the others; SimError when its name is empty or already declared.
  void add(Entry entry) {
    if (entry.name.empty()) throw SimError(what_ + " declared without a name");
    if (find(entry.name)) throw SimError(what_ + " \"" + entry.name + "\" is declared twice");
    entries_.push_back(std::move(entry));
  }
  // Null when no entry has that name.
  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  // The entry of a name the scenario was validated against; SimError (an internal error) if none.
  const Entry& at(const std::string& name) const {
    if (const Entry* e = find(name)) return *e;
    throw SimError("no " + what_ + " \"" + name + "\" is declared");
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::vector<Entry> entries_;
};

}  // namespace vcpusim::sim
