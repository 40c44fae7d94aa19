// Errors that end a run. ConfigError is bad input (exit 2); SimError is a model failure.
#pragma once
#include <stdexcept>
#include <string>

namespace vcpusim::sim {

class SimError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vcpusim::sim
