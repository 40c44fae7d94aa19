#include "tools/explore/fork_server.hpp"

#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include "plugin/watchdog.hpp"
#include "sim/error.hpp"
#include "tools/explore/explore.hpp"
#include "tools/explore/worker_pool.hpp"

namespace vcpusim::tools {
namespace {

struct Child {
  pid_t pid;
  int fd;
  std::size_t plan;
  double fraction;  // of the run done when it was forked
  std::string text;
};

// Reads what the children wrote until one of them ends, and reaps it; its text goes to `done`.
void reap_one(std::vector<Child>& children, std::vector<std::string>& done, ForkCosts& costs) {
  std::vector<pollfd> fds;
  for (const Child& c : children) fds.push_back({c.fd, POLLIN, 0});
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw sim::SimError("explore: poll failed");
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buf[1 << 16];
      const ssize_t k = read(fds[i].fd, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k > 0) {
        children[i].text.append(buf, static_cast<std::size_t>(k));
        continue;
      }
      Child c = std::move(children[i]);
      children.erase(children.begin() + static_cast<std::ptrdiff_t>(i));
      close(c.fd);
      int status = 0;
      rusage usage{};
      while (wait4(c.pid, &status, 0, &usage) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == plugin::watchdog::kExitPluginFault)
        throw plugin::watchdog::ChildStopped();  // it said why
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || c.text.empty())
        throw sim::SimError("explore: a forked schedule's process failed");
      auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
      };
      costs.add(seconds(usage.ru_utime) + seconds(usage.ru_stime), c.fraction);
      done[c.plan] = std::move(c.text);
      return;
    }
  }
}

}  // namespace

bool forkable(const Scenario& s, const Plan& plan, bool coverage) {
  if (coverage || plan.steered || plan.seed != s.seed || plan.index == 0) return false;
  for (const sim::Injection& in : plan.schedule.injections)
    if (in.access == 0) return false;  // placed at a time: scheduled from the start
  return true;
}

std::vector<Outcome> run_forked(const Scenario& s, const std::vector<Plan>& plans,
                                const std::set<std::string>& known, int jobs, ForkCosts& costs,
                                sim::StackPool* stacks) {
  if (plans.empty()) return {};
  const std::vector<std::string>& counted = plans.front().schedule.counted_words;
  WindowWatch windows(counted, static_cast<int>(s.vm.vcpus.value), &known);
  // Every point of every plan: the first the run reaches is where that plan departs from it.
  std::map<std::pair<int, std::uint64_t>, std::vector<std::size_t>> points;
  for (std::size_t i = 0; i < plans.size(); ++i)
    for (const sim::Injection& in : plans[i].schedule.injections)
      points[{in.vcpu, in.access}].push_back(i);
  std::vector<bool> forked(plans.size(), false);
  std::vector<Child> children;
  std::vector<std::string> texts(plans.size());
  std::optional<std::size_t> mine;  // in a child: the plan it runs
  int out_fd = -1;
  cpu::Machine* machine = nullptr;

  RunOptions options;
  options.stacks = stacks;
  options.counted_words = counted;
  options.observer = &windows;
  options.prepare = [&](cpu::Machine& m) {
    machine = &m;
    for (const auto& point : points) m.vcpu(point.first.first).hook_at_access(point.first.second);
    m.set_access_hook([&](int vcpu, std::uint64_t access) {
      if (mine) return;
      const auto it = points.find({vcpu, access});
      if (it == points.end()) return;
      for (std::size_t i : it->second) {
        if (forked[i]) continue;
        forked[i] = true;
        while (static_cast<int>(children.size()) >= std::max(jobs, 1)) reap_one(children, texts, costs);
        int fds[2];
        if (pipe(fds) != 0) throw sim::SimError("explore: pipe failed");
        std::cout.flush();
        std::cerr.flush();
        const pid_t pid = fork();
        if (pid < 0) throw sim::SimError("explore: fork failed");
        if (pid == 0) {
          for (const Child& c : children) close(c.fd);
          close(fds[0]);
          mine = i;
          out_fd = fds[1];
          for (int v = 0; v < machine->vcpu_count(); ++v) machine->vcpu(v).clear_hooks();
          machine->inject(plans[i].schedule.injections);  // those placed here fire next
          return;
        }
        close(fds[1]);
        children.push_back({pid, fds[0], i,
                            static_cast<double>(machine->kernel().now()) /
                                static_cast<double>(std::max<sim::Tick>(s.duration, 1)),
                            {}});
      }
    });
  };
  RunResult base;
  try {
    base = run_scenario(s, options);
  } catch (const std::exception& e) {
    if (mine) {
      std::fprintf(stderr, "vcpusim explore: forked schedule: %s\n", e.what());
      _exit(3);
    }
    throw;
  }
  if (mine) {
    Outcome o;
    o.index = plans[*mine].index;
    o.seed = plans[*mine].seed;
    o.schedule = plans[*mine].schedule;
    finish_outcome(o, base, windows);
    _exit(write_all(out_fd, outcome_json(o).dump()) ? 0 : 3);
  }
  while (!children.empty()) reap_one(children, texts, costs);
  std::vector<Outcome> out;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (forked[i]) {
      out.push_back(outcome_from(sim::Json::parse(texts[i])));
      continue;
    }
    Outcome o;  // no point reached: the scenario's own run
    o.index = plans[i].index;
    o.seed = plans[i].seed;
    o.schedule = plans[i].schedule;
    finish_outcome(o, base, windows);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace vcpusim::tools
