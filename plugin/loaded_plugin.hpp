// One C plugin loaded into this process (dlopen): its file and content hash, its registered
// locks, workloads and metrics, and its writable data (the plugin's globals) as it was right
// after vcpusim_plugin_init. Each run registers that data as guest memory regions and first puts
// it back to that state, so a run never sees what an earlier run of the same process left in
// the plugin's globals.
#pragma once
#include <string>
#include <vector>

#include "cpu/vm/memory.hpp"
#define VCPUSIM_HOST 1  // the ABI's types, not a plugin's definitions
#include "include/vcpusim/guest.h"

namespace vcpusim::plugin {

// FNV-1a 64 of a file's bytes, 16 lowercase hex digits; "" when it cannot be read.
std::string file_hash(const std::string& path);

class LoadedPlugin {
 public:
  // ConfigError (one message: the file and what is wrong) when the file is missing, is not a
  // shared object, lacks the entry points, was built for another ABI version, or its init fails.
  explicit LoadedPlugin(const std::string& path);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const std::string& path() const { return path_; }
  // The file's name without its folder: region names ("mylock.so.data0") and docs use it.
  const std::string& name() const { return name_; }
  // The file's canonical path ("" when realpath failed) and the FNV-1a 64 of its bytes as read
  // just before dlopen (16 hex digits): a replay records both and refuses another build.
  const std::string& real_path() const { return real_path_; }
  const std::string& content_hash() const { return content_hash_; }
  const std::vector<const vcpusim_lock_ops*>& locks() const { return locks_; }
  const std::vector<const vcpusim_workload_ops*>& workloads() const { return workloads_; }
  const std::vector<const vcpusim_metric*>& metrics() const { return metrics_; }
  // Resets the globals to their state after init and registers them in `memory`.
  void enter_run(cpu::Memory& memory) const;

 private:
  friend class LockCollector;
  struct Segment {
    void* start;
    std::vector<unsigned char> initial;
  };
  void find_segments();

  std::string path_;
  std::string name_;
  std::string real_path_;
  std::string content_hash_;
  void* handle_ = nullptr;
  std::vector<const vcpusim_lock_ops*> locks_;
  std::vector<const vcpusim_workload_ops*> workloads_;
  std::vector<const vcpusim_metric*> metrics_;
  std::vector<Segment> segments_;
};

}  // namespace vcpusim::plugin
