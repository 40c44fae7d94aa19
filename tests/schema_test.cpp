// scenarios/scenario.schema.json is the current `vcpusim schema` output, and every catalogue
// scenario uses only keys that the schema declares.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scenario_util.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::string kSourceDir = VCPUSIM_SOURCE_DIR;
const std::string kSchemaFile = kSourceDir + "/scenarios/scenario.schema.json";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// stdout of `vcpusim schema`; fails the test if it does not exit 0.
std::string current_schema() {
  const std::string cmd = std::string("'") + VCPUSIM_BINARY + "' schema 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "cannot run " << cmd;
    return {};
  }
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << " failed: " << status;
  return out;
}

// Every key of `value` that `schema` does not declare, as JSON paths. Objects follow
// "properties", then "additionalProperties" when it is a schema; arrays follow "items".
void undeclared_keys(const Json& value, const Json& schema, const std::string& path,
                     std::vector<std::string>& out) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string sub = path + "." + it.key();
      if (schema.contains("properties") && schema["properties"].contains(it.key())) {
        undeclared_keys(it.value(), schema["properties"][it.key()], sub, out);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        undeclared_keys(it.value(), schema["additionalProperties"], sub, out);
      } else {
        out.push_back(sub);
      }
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i)
      undeclared_keys(value[i], schema["items"], path + "[" + std::to_string(i) + "]", out);
  }
}

std::vector<std::string> undeclared_keys(const Json& scenario, const Json& schema) {
  std::vector<std::string> out;
  undeclared_keys(scenario, schema, "$", out);
  return out;
}

std::vector<fs::path> catalogue_scenarios() {
  std::vector<fs::path> files;
  for (const auto& name : vcpusim::test::catalogue_files())
    files.push_back(vcpusim::test::scenario_path(name));
  return files;
}

TEST(Schema, CommittedFileIsUpToDate) {
  ASSERT_TRUE(fs::exists(kSchemaFile)) << kSchemaFile;
  const std::string current = current_schema();
  ASSERT_FALSE(current.empty());
  EXPECT_TRUE(read_file(kSchemaFile) == current)
      << kSchemaFile
      << " is stale; regenerate it with: build/vcpusim schema > scenarios/scenario.schema.json";
}

TEST(Schema, ParsesAsJsonSchema) {
  Json schema;
  ASSERT_NO_THROW(schema = Json::parse(read_file(kSchemaFile)));
  ASSERT_TRUE(schema.is_object());
  EXPECT_EQ(schema.value("$schema", ""), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_EQ(schema.value("type", ""), "object");
  EXPECT_EQ(schema["additionalProperties"], false);
  for (const char* key : {"name", "duration", "host", "vm", "costs", "guest", "checks", "expect"})
    EXPECT_TRUE(schema["properties"].contains(key)) << key;
  EXPECT_EQ(schema["required"], Json({"name", "duration"}));
}

TEST(Schema, CatalogueScenariosUseOnlyDeclaredKeys) {
  const Json schema = Json::parse(read_file(kSchemaFile));
  const auto files = catalogue_scenarios();
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    Json scenario;
    ASSERT_NO_THROW(scenario = Json::parse(read_file(f)));
    const auto extra = undeclared_keys(scenario, schema);
    EXPECT_TRUE(extra.empty()) << "keys not in the schema: " << ::testing::PrintToString(extra);
  }
}

// The walk itself finds undeclared keys, at the top level and nested.
TEST(Schema, WalkFindsUndeclaredKeys) {
  const Json schema = Json::parse(read_file(kSchemaFile));
  const auto bad = [&](const char* file) {
    return undeclared_keys(Json::parse(read_file(kSourceDir + "/tests/bad_scenarios/" + file)),
                           schema);
  };
  EXPECT_EQ(bad("unknown-top-level-key.json"), std::vector<std::string>{"$.durration"});
  EXPECT_EQ(bad("unknown-scheduler-key.json"),
            std::vector<std::string>{"$.host.scheduler.quantum"});
  EXPECT_EQ(bad("expect-unknown-check.json"),
            std::vector<std::string>{"$.expect.violations.time_warp"});
  Json deep = Json::parse(read_file(kSourceDir + "/scenarios/vdso-time-backwards.json"));
  deep["host"]["load"][0]["burst"] = "1ms";
  deep["guest"]["workloads"][1]["think_time"] = "1ms";
  deep["expect"]["violations"]["monotonic_time"]["exactly"] = 1;
  EXPECT_EQ(undeclared_keys(deep, schema),
            (std::vector<std::string>{"$.expect.violations.monotonic_time.exactly",
                                      "$.guest.workloads[1].think_time", "$.host.load[0].burst"}));
}

}  // namespace
