#include "sim/checks/wait_graph.hpp"

#include <algorithm>

#include "sim/error.hpp"

namespace vcpusim::sim {
namespace {
std::string cpu_name(int cpu) {
  return "vCPU" + std::to_string(cpu);
}
}  // namespace

WaitGraph::WaitGraph(Kernel& kernel, Violations& out)
    : kernel_(kernel),
      out_(out),
      component_(kernel.components().add("check.wait_graph", "check")) {}

const char* WaitGraph::describe(Needs n) {
  return n == Needs::kService ? "service" : "progress";
}

int WaitGraph::begin(int cpu, WaitOn on) {
  const auto idx = static_cast<std::size_t>(cpu);
  if (stacks_.size() <= idx) stacks_.resize(idx + 1);
  Wait w;
  w.on = std::move(on);
  w.since = kernel_.now();
  w.token = next_token_++;
  ++waits_;
  if (hang_) {
    const int token = w.token;
    w.timer = kernel_.at(w.since + hang_after_, Phase::kCheck, component_,
                         [this, cpu, token] { hang(cpu, token); });
  }
  stacks_[idx].push_back(std::move(w));
  if (deadlock_) find_cycle(cpu);
  return stacks_[idx].back().token;
}

void WaitGraph::end(int cpu, int token) {
  auto& stack = stacks_.at(static_cast<std::size_t>(cpu));
  if (stack.empty() || stack.back().token != token)
    throw SimError(cpu_name(cpu) + ": waits must end innermost first");
  kernel_.cancel(stack.back().timer);
  stack.pop_back();
}

// Whether `holder` cannot give `from` what it needs as things stand: it is itself stuck in a wait
// (and, for a request, does not service requests while waiting), or it is `from` underneath.
bool WaitGraph::blocked(int holder, Needs needs, int from) const {
  if (holder == from && needs == Needs::kProgress) return true;  // nested on top of it
  const auto idx = static_cast<std::size_t>(holder);
  if (idx >= stacks_.size() || stacks_[idx].empty()) return false;
  return needs == Needs::kProgress || !stacks_[idx].back().on.serviceable;
}

void WaitGraph::find_cycle(int start) {
  std::vector<int> path = {start};
  int cur = start;
  for (std::size_t step = 0; step <= stacks_.size(); ++step) {
    const Wait& w = stacks_[static_cast<std::size_t>(cur)].back();
    const int h = w.on.holder;
    if (h < 0 || !blocked(h, w.on.needs, cur)) return;
    if (h == start) break;
    if (std::find(path.begin(), path.end(), h) != path.end()) return;  // a cycle without us
    path.push_back(h);
    cur = h;
  }
  if (path.empty() || stacks_[static_cast<std::size_t>(path.back())].back().on.holder != start)
    return;
  // Report the cycle starting at its lowest CPU, so the same deadlock always reads the same way.
  std::rotate(path.begin(), std::min_element(path.begin(), path.end()), path.end());
  Violation v;
  v.check = kDeadlock;
  v.time = kernel_.now();
  v.cpus = path;
  std::string chain;
  nlohmann::json wait_list = nlohmann::json::array();
  nlohmann::json cycle = nlohmann::json::array();
  for (int c : path) {
    const Wait& w = stacks_[static_cast<std::size_t>(c)].back();
    chain += cpu_name(c) + " -> ";
    cycle.push_back(c);
    wait_list.push_back({{"cpu", c},
                         {"waits_on", w.on.what},
                         {"holder", w.on.holder},
                         {"needs", describe(w.on.needs)},
                         {"services_requests", w.on.serviceable},
                         {"since_ns", to_ns(w.since)}});
  }
  cycle.push_back(path.front());
  chain += cpu_name(path.front());
  v.message = "wait-for cycle " + chain + ": ";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const Wait& w = stacks_[static_cast<std::size_t>(path[i])].back();
    v.message += (i ? "; " : "") + cpu_name(path[i]) + " spins on " + w.on.what;
  }
  v.details = {{"cycle", cycle}, {"waits", wait_list}};
  out_.report(std::move(v));
}

void WaitGraph::hang(int cpu, int token) {
  auto& stack = stacks_[static_cast<std::size_t>(cpu)];
  auto it =
      std::find_if(stack.begin(), stack.end(), [token](const Wait& w) { return w.token == token; });
  if (it == stack.end()) return;
  it->timer = EventKey{};
  Violation v;
  v.check = kHang;
  v.time = kernel_.now();
  v.cpus = {cpu};
  v.message = cpu_name(cpu) + " made no progress for " + format_time(hang_after_) +
              " spinning on " + it->on.what +
              (it->on.holder >= 0 ? " (waiting for " + cpu_name(it->on.holder) + ")" : "") +
              " since " + format_time(it->since);
  v.details = {{"waits_on", it->on.what},
               {"holder", it->on.holder},
               {"needs", describe(it->on.needs)},
               {"since_ns", to_ns(it->since)},
               {"bound_ns", to_ns(hang_after_)},
               {"nesting", static_cast<std::int64_t>(it - stack.begin())}};
  out_.report(std::move(v));
}

}  // namespace vcpusim::sim
