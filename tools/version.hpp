#pragma once

namespace vcpusim::tools {
inline constexpr const char* kVersion = "0.1.0";
}
