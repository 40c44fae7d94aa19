// Closed forms a sweep can draw next to what it measured, derived from the model's mechanism
// (docs/sweeps.md, "Worked sweeps"), never fitted to the measured numbers.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace vcpusim::tools {

class Scenario;

// Names accepted by a sweep spec's "model".
const std::vector<std::string>& model_names();

// The model's probability that one run of `scenario` has at least one violation of its check,
// or nothing when the model does not describe this scenario. When `warning` is given, it is set
// to why the closed form may not hold for this scenario (an assumption it breaks), or "".
std::optional<double> predict_violation_probability(const std::string& model,
                                                    const Scenario& scenario,
                                                    std::string* warning = nullptr);

}  // namespace vcpusim::tools
