// "file.c:line" of a code address in a loaded plugin, for the data_race check's messages
// (cpu::CodeLocator): read from the plugin's DWARF line table with Debian's libdw when vcpusim
// was built with it and the plugin with -g (`vcpusim cc --instrument` adds -g), else the
// enclosing function and offset from the dynamic symbol table ("racy_inc+0x12"). Never the
// host address: where the loader put the plugin must not change a message.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "cpu/vm/ccode/race_detector.hpp"

namespace vcpusim::plugin {

class SourceLines : public cpu::CodeLocator {
 public:
  SourceLines();
  ~SourceLines() override;
  SourceLines(const SourceLines&) = delete;
  SourceLines& operator=(const SourceLines&) = delete;

  std::string where(const void* pc) const override;

 private:
  struct Module;
  const Module* module(const std::string& path) const;

  mutable std::map<const void*, std::string> cache_;                // by code address; lookup only
  mutable std::map<std::string, std::unique_ptr<Module>> modules_;  // by file; lookup only
};

}  // namespace vcpusim::plugin
