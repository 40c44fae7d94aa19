// The precompiled header of every target (CMakeLists.txt, cmake/README.md): stable external
// headers that most translation units include; never a project header (they change often), nor
// SystemC (only sim/core/kernel.cpp and tools/main.cpp may see it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>
