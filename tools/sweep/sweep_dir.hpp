// A sweep's output directory, and the only files a sweep may replace or delete: those in a
// directory it can recognise as a sweep's own by its marker file. A new or empty directory gets
// the marker; a non-empty one without it is the user's and is refused. Temporaries are created
// exclusively (O_EXCL) in their output's own directory, opened without following a symbolic
// link, and no input of the sweep may lie inside its directory.
#pragma once
#include <string>
#include <vector>

#include "tools/run/durable_file.hpp"

namespace vcpusim::tools {

// DIR/.vcpusim-sweep and the line it holds.
extern const char* const kSweepMarker;
extern const char* const kSweepMarkerText;

// Makes `dir` a sweep directory or checks that it is one, and returns its resolved path (what
// every later write uses, so that a link planted later at DIR is never followed). Creates `dir`
// (and its parents) when absent and writes the marker when it is empty. Throws sim::ConfigError,
// having created nothing, when one of `inputs` (the spec, the scenario) lies inside `dir`, and
// when `dir` is not empty and holds no marker.
std::string claim_sweep_dir(const std::string& dir, const std::vector<std::string>& inputs);

// DIR holds the marker (a regular file, not a link, with the marker's text).
bool is_sweep_dir(const std::string& dir);

// Takes DIR/.lock exclusively, so that two sweeps never write into one DIR; returns its
// descriptor (closing it releases the lock). Throws sim::ConfigError when another sweep holds it.
int lock_sweep_dir(const std::string& dir);

// Removes DIR/sub's leftover temporaries of write_file_durably (names starting with
// kTemporaryPrefix). DIR must be a sweep directory.
void remove_temporaries(const std::string& dir, const std::string& sub);
// Replaces DIR/sub by a new empty directory. DIR must be a sweep directory.
void renew_subdir(const std::string& dir, const std::string& sub);

}  // namespace vcpusim::tools
