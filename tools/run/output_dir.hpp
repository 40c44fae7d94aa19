// A directory a command fills with files of its own names (explore -o DIR). The command writes
// there only when it made the directory, found it empty, or finds its marker file in it (left by
// an earlier run of the same command): never among files it did not write. The marker is also
// the directory's lock, so a second command into the same directory while one runs is refused.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace vcpusim::tools {

class OutputDir {
 public:
  // Creates `dir` (and missing parents) or checks it, then marks and locks it; throws
  // sim::ConfigError naming `option` and `dir` and what is allowed. `command`: "explore".
  OutputDir(const std::string& option, const std::string& dir, const std::string& command);
  // Unlocks; a directory this command made and wrote nothing into is removed again.
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  std::string file(const std::string& name) const;  // DIR/name
  // After the outputs were committed: removes the regular files whose names `ours` accepts and
  // `keep` does not list (what an earlier run wrote and this one did not write again).
  void committed(const std::function<bool(const std::string&)>& ours,
                 const std::vector<std::string>& keep);
  // The marker's name for a command: ".vcpusim-explore".
  static std::string marker(const std::string& command);

 private:
  std::string dir_;
  std::string marker_;
  int fd_ = -1;  // the marker, locked
  bool made_ = false;
  bool committed_ = false;
};

}  // namespace vcpusim::tools
