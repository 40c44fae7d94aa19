// The checks of one run: the names the scenario enabled, the bounds of its "limits" section, and
// the checker objects that attaching the checks created, kept here for the run. Model code that
// feeds a check finds its checker here by name (null: the check is off), and a model that
// reports a check itself asks enabled(); so no constructor takes a pointer or a flag per check.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "sim/error.hpp"
#include "sim/record/metrics.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

class CheckSet {
 public:
  CheckSet(std::vector<std::string> enabled, std::map<std::string, Tick> limits)
      : enabled_(std::move(enabled)), limits_(std::move(limits)) {}
  CheckSet(const CheckSet&) = delete;
  CheckSet& operator=(const CheckSet&) = delete;

  bool enabled(const std::string& check) const;
  // The bound `name` of the "limits" section; SimError when no check declared it.
  Tick limit(const std::string& name) const;

  // Keeps `checker` for the run under `key` (a check's name, or the name of a checker several
  // checks share); SimError when the key is taken.
  template <class T>
  T& keep(const std::string& key, std::unique_ptr<T> checker) {
    if (kept(key)) throw SimError("checker \"" + key + "\" is kept twice");
    T& ref = *checker;
    kept_.push_back(Kept{key, std::shared_ptr<void>(std::move(checker)), typeid(T)});
    return ref;
  }
  // The checker kept under `key`, null when none is (the check is off); SimError when it is not
  // a T.
  template <class T>
  T* find(const std::string& key) const {
    const Kept* k = kept(key);
    if (!k) return nullptr;
    if (k->type != std::type_index(typeid(T)))
      throw SimError("checker \"" + key + "\" is not of the type asked for");
    return static_cast<T*>(k->checker.get());
  }

  // Metrics a checker adds after the run, in the order they were added.
  void add_metrics(std::function<void(Metrics&)> collect) {
    metrics_.push_back(std::move(collect));
  }
  void collect_metrics(Metrics& out) const;

 private:
  struct Kept {
    std::string key;
    std::shared_ptr<void> checker;
    std::type_index type;
  };
  const Kept* kept(const std::string& key) const;

  std::vector<std::string> enabled_;
  std::map<std::string, Tick> limits_;
  std::vector<Kept> kept_;
  std::vector<std::function<void(Metrics&)>> metrics_;
};

}  // namespace vcpusim::sim
