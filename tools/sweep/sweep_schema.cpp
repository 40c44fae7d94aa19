// JSON Schema of sweep specs (`vcpusim sweep schema`, scenarios/sweeps/sweep.schema.json). The
// loader (sweep_spec.cpp) checks the same rules and more: paths resolve in the base scenario and
// every point is a valid scenario.
#include "tools/sweep/sweep_model.hpp"
#include "tools/sweep/sweep_spec.hpp"

namespace vcpusim::tools {

sim::Json SweepSpec::schema() {
  using sim::Json;
  const Json quantity = {
      {"description", "a number, a duration (\"10us\") or a frequency (\"2GHz\")"},
      {"anyOf",
       Json::array({{{"type", "number"}},
                    {{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?(ps|ns|us|ms|s)$"}},
                    {{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?(Hz|kHz|MHz|GHz)$"}}})}};
  const Json set = {{"type", "object"},
                    {"description",
                     "scenario path (as for --set, e.g. \"host.load[0].idle\") -> "
                     "JSON value"},
                    {"additionalProperties", true}};
  const Json names = {{"type", "array"}, {"items", {{"type", "string"}}}, {"uniqueItems", true}};
  const Json axis = {
      {"type", "object"},
      {"description",
       "one axis: a scenario path and its values (exactly one of values, range, "
       "log) or labelled points that each set several paths"},
      {"additionalProperties", false},
      {"required", {"name"}},
      {"properties",
       {{"name",
         {{"type", "string"}, {"description", "column name"}, {"pattern", "^[^,\"=\\n]+$"}}},
        {"unit",
         {{"type", "string"},
          {"description",
           "plot unit: durations in ps|ns|us|ms|s (default us), frequencies in "
           "Hz|kHz|MHz|GHz (default MHz), else a free label"}}},
        {"scale",
         {{"enum", {"linear", "log"}},
          {"description",
           "x axis scale of the plots when this is the first axis (default: log for a log "
           "range or log-spaced values, each ratio of neighbours at least 1.9 and within 15% "
           "of the others; else linear)"}}},
        {"path", {{"type", "string"}, {"description", "the scenario path the values set"}}},
        {"values", {{"type", "array"}, {"minItems", 1}, {"description", "JSON values"}}},
        {"range",
         {{"type", "object"},
          {"description", "from, from+step, ... up to to (inclusive)"},
          {"additionalProperties", false},
          {"required", {"from", "to", "step"}},
          {"properties", {{"from", quantity}, {"to", quantity}, {"step", quantity}}}}},
        {"log",
         {{"type", "object"},
          {"description", "count values spaced evenly on a log scale from..to"},
          {"additionalProperties", false},
          {"required", {"from", "to", "count"}},
          {"properties",
           {{"from", quantity},
            {"to", quantity},
            {"count", {{"type", "integer"}, {"minimum", 2}, {"maximum", 10000}}}}}}},
        {"points",
         {{"type", "array"},
          {"minItems", 1},
          {"items",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", {"value", "set"}},
            {"properties",
             {{"value", {{"type", {"number", "string"}}, {"description", "the point's label"}}},
              {"set", set}}}}}}}}},
      {"oneOf", Json::array({{{"required", {"path", "values"}}},
                             {{"required", {"path", "range"}}},
                             {{"required", {"path", "log"}}},
                             {{"required", {"points"}}}})}};
  return {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
          {"title", "vcpusim sweep spec"},
          {"type", "object"},
          {"additionalProperties", false},
          {"required", {"name", "scenario", "axes", "seeds"}},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"description", {{"type", "string"}}},
            {"scenario",
             {{"type", "string"}, {"description", "the base scenario file, relative to the spec"}}},
            {"set", set},
            {"axes", {{"type", "array"}, {"minItems", 1}, {"maxItems", 8}, {"items", axis}}},
            {"combine",
             {{"enum", {"product", "zip"}},
              {"description",
               "every combination of axis values (default), or the i-th values "
               "together (axes of equal length)"}}},
            {"seeds",
             {{"description", "a count n (seeds 1..n) or a list of distinct seeds"},
              {"anyOf", Json::array({{{"type", "integer"}, {"minimum", 1}, {"maximum", 100000}},
                                     {{"type", "array"},
                                      {"minItems", 1},
                                      {"uniqueItems", true},
                                      {"items", {{"type", "integer"}, {"minimum", 0}}}}})}}},
            {"metrics", names},
            {"checks", names},
            {"plots", names},
            {"model",
             {{"enum", model_names()},
              {"description",
               "a closed form drawn with the "
               "violation probability"}}},
            {"run_budget",
             {{"type", "integer"},
              {"minimum", 1},
              {"maximum", INT64_MAX},
              {"default", kDefaultRunBudget},
              {"description",
               "simulation steps (kernel events plus guest operations advanced inline) a run "
               "may take; a run that needs more stops there, deterministically, and is "
               "recorded as budget-exceeded"}}}}}};
}

}  // namespace vcpusim::tools
