#include "guest/timekeeping_params.hpp"

namespace vcpusim::guest {

void NtpParams::validate(const sim::Node& node) const {
  if (node.has("ppm") && node.has("mult_steps"))
    node.fail("both \"ppm\" and \"mult_steps\" are set", "one of them");
  if (direction.value != NtpDirection::kNone && ppm.value == 0 && mult_steps.value == 0)
    node.fail("direction \"" + std::string(direction.text()) + "\" with a zero adjustment",
              "\"ppm\" > 0 or \"mult_steps\" > 0");
}

sim::Json NtpParams::to_json() const {
  sim::Json out = ParamSet::to_json();
  out.erase(mult_steps.value != 0 ? "ppm" : "mult_steps");
  return out;
}

}  // namespace vcpusim::guest
