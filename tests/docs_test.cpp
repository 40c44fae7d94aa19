// The documentation stays true to the tree: every path README.md and docs/*.md name exists, every
// doc the code cites exists, and docs/scenario-format.md names every key of the scenario schema.
// (The transcripts are run by tests/doc_transcripts_test.sh.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const fs::path kSourceDir = VCPUSIM_SOURCE_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<fs::path> markdown_docs() {
  std::vector<fs::path> docs = {kSourceDir / "README.md"};
  for (const auto& e : fs::directory_iterator(kSourceDir / "docs"))
    if (e.path().extension() == ".md") docs.push_back(e.path());
  return docs;
}

// Paths into the tree a text names: scenarios/..., docs/..., tools/..., bench/..., tests/... and
// the other top-level folders, not preceded by a path character (so /usr/share/.../scenarios is
// not one), without a #anchor or a sentence's final dot. Globs and placeholders are skipped.
std::vector<std::string> tree_paths(const std::string& text) {
  static const std::regex re(
      R"((^|[^A-Za-z0-9_./-])((scenarios|docs|tools|bench|tests|fuzz|sim|cpu|guest|cmake)/[A-Za-z0-9_./*{}<>-]*))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    std::string p = (*it)[2];
    if (p.find_first_of("*{}<>") != std::string::npos) continue;
    while (!p.empty() && (p.back() == '.' || p.back() == ',')) p.pop_back();
    out.push_back(p);
  }
  return out;
}

// Relative targets of Markdown links and images: [text](target) and ![alt](target).
std::vector<std::string> link_targets(const std::string& text) {
  static const std::regex re(R"(\]\(([^)\s#]+)(#[^)\s]*)?\))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    const std::string t = (*it)[1];
    if (t.find("://") == std::string::npos && t.rfind("mailto:", 0) != 0) out.push_back(t);
  }
  return out;
}

// Every string between backticks, with {a,b} groups expanded: `host.noise.{irq,kworker}.rate`
// names host.noise.irq.rate and host.noise.kworker.rate.
std::set<std::string> backticked(const std::string& text) {
  std::set<std::string> out;
  std::vector<std::string> todo;
  static const std::regex re("`([^`\n]+)`");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    todo.push_back((*it)[1]);
  while (!todo.empty()) {
    const std::string s = todo.back();
    todo.pop_back();
    const auto open = s.find('{'), close = s.find('}', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) {
      out.insert(s);
      continue;
    }
    std::stringstream alternatives(s.substr(open + 1, close - open - 1));
    for (std::string a; std::getline(alternatives, a, ',');)
      todo.push_back(s.substr(0, open) + a + s.substr(close + 1));
  }
  return out;
}

// The scenario keys of a schema node, as the docs write them: host.load[].busy. Objects are
// covered by their keys; expect's children are per check and per metric name.
void schema_keys(const Json& node, const std::string& prefix, std::vector<std::string>& out) {
  if (!node.contains("properties")) return;
  for (const auto& [key, sub] : node["properties"].items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (path == "expect") continue;
    if (sub.contains("properties")) {
      schema_keys(sub, path, out);
    } else if (sub.value("type", "") == "array" && sub.contains("items") &&
               sub["items"].contains("properties")) {
      schema_keys(sub["items"], path + "[]", out);
    } else {
      out.push_back(path);
    }
  }
}

TEST(Docs, EveryPathTheDocsNameExists) {
  int checked = 0;
  for (const auto& doc : markdown_docs()) {
    const std::string text = read_file(doc);
    for (const auto& p : tree_paths(text)) {
      ++checked;
      EXPECT_TRUE(fs::exists(kSourceDir / p)) << doc.filename() << " names " << p
                                              << ", which is not in the tree";
    }
    for (const auto& t : link_targets(text)) {
      ++checked;
      const fs::path target = doc.parent_path() / t;
      EXPECT_TRUE(fs::exists(target)) << doc.filename() << " links " << t << ", which is not there";
    }
  }
  EXPECT_GT(checked, 100) << "the extraction found too few paths to mean anything";
}

TEST(Docs, EveryDocTheCodeCitesExists) {
  static const std::regex re(R"(docs/[A-Za-z0-9_-]+\.(md|png|svg))");
  int checked = 0;
  for (const char* dir : {"sim", "cpu", "guest", "tools", "tests", "bench", "fuzz", "cmake"}) {
    for (const auto& e : fs::recursive_directory_iterator(kSourceDir / dir)) {
      if (!e.is_regular_file() || e.path().string().find("node_modules") != std::string::npos)
        continue;
      const auto ext = e.path().extension();
      if (ext != ".cpp" && ext != ".hpp" && ext != ".sh" && ext != ".cmake" && ext != ".txt" &&
          ext != ".md" && ext != ".mjs")
        continue;
      const std::string text = read_file(e.path());
      for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
           it != std::sregex_iterator(); ++it) {
        ++checked;
        const std::string p = (*it)[0];
          EXPECT_TRUE(fs::exists(kSourceDir / p))
            << fs::relative(e.path(), kSourceDir) << " cites " << p << ", which is not in docs/";
      }
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(Docs, ScenarioFormatNamesEveryKeyOfTheSchema) {
  const Json schema = Json::parse(read_file(kSourceDir / "scenarios/scenario.schema.json"));
  std::vector<std::string> keys;
  schema_keys(schema, "", keys);
  ASSERT_GT(keys.size(), 150u);
  const auto named = backticked(read_file(kSourceDir / "docs/scenario-format.md"));
  for (const auto& k : keys)
    EXPECT_TRUE(named.count(k)) << "docs/scenario-format.md does not name `" << k
                                << "` (a key of vcpusim schema)";
}

// The control: the extraction finds a missing path and an unnamed key.
TEST(Docs, TheChecksCatchAMissingPathAndAnUnnamedKey) {
  const auto paths = tree_paths("see scenarios/sweeps/lock-overcommit.json.");
  ASSERT_EQ(paths, std::vector<std::string>{"scenarios/sweeps/lock-overcommit.json"});
  EXPECT_FALSE(fs::exists(kSourceDir / paths[0]));
  EXPECT_TRUE(tree_paths("/usr/share/vcpusim/scenarios/x.json").empty());
  // (split so that EveryDocTheCodeCitesExists does not read it as a citation)
  EXPECT_EQ(link_targets("[a](docs/" "x.md#y) [b](https://e.org/z)"),
            std::vector<std::string>{"docs/" "x.md"});
  const auto named = backticked("`host.noise.{irq,kworker}.rate` and `vm.vcpus`");
  EXPECT_TRUE(named.count("host.noise.kworker.rate") && named.count("vm.vcpus"));
  EXPECT_FALSE(named.count("host.noise.softirq.rate"));
}

}  // namespace
