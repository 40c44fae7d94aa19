// A test's input file, written byte for byte (replacing it): one helper for every test that
// plants a file.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

namespace vcpusim::test {

inline void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace vcpusim::test
