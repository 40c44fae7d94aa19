// A command's output files, written all-or-nothing: each one goes to its own temporary file,
// created exclusively (O_EXCL, never through a planted link) with a unique name in the output's
// directory, and only when every one is written are they renamed over their final names. A
// failure or an interruption never leaves a partial file under a final name.
#pragma once
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace vcpusim::tools {

class OutputFiles {
 public:
  // `inputs`: files the command reads; an output naming one of them is refused.
  explicit OutputFiles(std::vector<std::string> inputs);
  ~OutputFiles();  // removes temporary files that were not committed
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;

  // Registers an output before any work is done; throws sim::ConfigError when `path` names an
  // input or another output (same resolved path, or the same file through another link), or
  // anything but a regular file, a symlink to one or a free name (a directory, a device, a FIFO,
  // a socket, or a symlink to one of those).
  void declare(const std::string& option, const std::string& path);
  // One more input, known only once the command has read its first one (a recording a scenario
  // names): refused as declare() would refuse it, when an output already declared names it.
  void add_input(const std::string& path);
  // Writes a declared output into its temporary file.
  void write(const std::string& path, const std::function<void(std::ostream&)>& content);
  // Opens a declared output's temporary file for writing as the command goes (a streamed
  // trace); it is completed by commit().
  std::ostream& open(const std::string& path);
  // Completes the opened outputs, then renames every written temporary file over its final name.
  // A symlink at a final name is replaced by the file, not followed. Each final name is checked
  // again as declare() does, in case it became a device or a FIFO during the run.
  void commit();

 private:
  struct Stream;
  struct Output {
    std::string option;
    std::string path;
    std::string tmp;
    std::shared_ptr<Stream> stream;  // while open
  };
  Output& find(const std::string& path);
  void close(Output& out);
  std::vector<std::string> inputs_;
  std::vector<Output> outputs_;
};

}  // namespace vcpusim::tools
