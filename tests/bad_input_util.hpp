// The bad-input case table's shape and its one check, shared by bad_input_test.cpp (issue 13's
// catalogue) and input_limits_test.cpp (issue 22's limits and floors): every bad input to the
// real vcpusim binary gives exit status 2 and exactly one line on stderr that names the file,
// the JSON path, the offending value and what is allowed.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli_util.hpp"

namespace vcpusim::test {

inline const std::string kSourceDir = VCPUSIM_SOURCE_DIR;
inline const std::string kBadDir = kSourceDir + "/tests/bad_scenarios";
inline const std::string kBaseScenario = kSourceDir + "/scenarios/vdso-time-backwards.json";

enum class Kind {
  kField,    // FILE: PATH: VALUE problem; allowed: ...
  kSyntax,   // FILE: $: invalid JSON: parse error at line L, column C: ...
  kMissing,  // FILE: cannot open the scenario file ...
};

struct Case {
  Case(const char* name_, std::string file_, std::vector<std::string> sets_, Kind kind_,
       std::string path_, std::string value_, std::string allowed_ = "")
      : name(name_),
        file(std::move(file_)),
        sets(std::move(sets_)),
        kind(kind_),
        path(std::move(path_)),
        value(std::move(value_)),
        allowed(std::move(allowed_)) {}
  const char* name;               // test name
  std::string file;               // scenario file given to vcpusim
  std::vector<std::string> sets;  // --set PATH=VALUE overrides
  Kind kind;
  std::string path;     // for kField/kSyntax: text between "FILE: " and the next ": "
  std::string value;    // must appear after the path: the offending value, or line/column
  std::string allowed;  // kField: must appear after "; allowed: " (a limit's value), if set
};

// Keeps GetParam() readable in test listings (ctest shows it in the test name).
inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

inline std::string bad(const char* file) {
  return kBadDir + "/" + file;
}

// The case tables: bad_input_test.cpp and input_limits_test.cpp.
std::vector<Case> cases();
std::vector<Case> input_limit_cases();

inline void expect_one_message(const Case& c, const CliResult& r) {
  EXPECT_EQ(r.status, 2) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not exactly one line:\n" << r.err;
  const auto file_at = r.err.find(c.file + ": ");
  ASSERT_NE(file_at, std::string::npos) << "does not name " << c.file << ":\n" << r.err;
  const std::string rest = r.err.substr(file_at + c.file.size() + 2);
  switch (c.kind) {
    case Kind::kMissing:
      EXPECT_NE(rest.find("cannot open"), std::string::npos) << r.err;
      break;
    case Kind::kSyntax:
      EXPECT_EQ(rest.rfind(c.path + ": invalid JSON: ", 0), 0u) << r.err;
      EXPECT_NE(rest.find(c.value), std::string::npos) << "no line and column " << c.value << ":\n"
                                                       << r.err;
      break;
    case Kind::kField: {
      ASSERT_EQ(rest.rfind(c.path + ": ", 0), 0u) << "path is not " << c.path << ":\n" << r.err;
      const std::string message = rest.substr(c.path.size() + 2);
      const auto allowed = message.find("; allowed: ");
      ASSERT_NE(allowed, std::string::npos) << "no \"allowed\":\n" << r.err;
      EXPECT_GT(message.size(), allowed + std::string("; allowed: \n").size()) << r.err;
      EXPECT_NE(message.substr(0, allowed).find(c.value), std::string::npos)
          << "the problem does not show " << c.value << ":\n"
          << r.err;
      EXPECT_NE(message.substr(allowed).find(c.allowed), std::string::npos)
          << "what is allowed does not say " << c.allowed << ":\n"
          << r.err;
      break;
    }
  }
}

// `vcpusim run` with the case's file and overrides: one message, exit 2, and no output file (nor
// anything else) written next to the --json it was given.
inline void expect_run_refused(const Case& c) {
  TempDir tmp;
  const fs::path out = tmp.path() / "result.json";
  std::vector<std::string> args = {"run", c.file};
  for (const auto& s : c.sets) args.insert(args.end(), {"--set", s});
  args.insert(args.end(), {"--json", out.string()});
  const CliResult r = run_cli(args);
  SCOPED_TRACE("vcpusim run " + c.file);
  expect_one_message(c, r);
  EXPECT_FALSE(fs::exists(out)) << out;
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 0)
      << "something was written next to the output file";
}

// `vcpusim validate` gives the same message as run, and nothing on stdout.
inline void expect_validate_refused(const Case& c) {
  std::vector<std::string> run_args = {"run", c.file};
  std::vector<std::string> validate_args = {"validate", c.file};
  for (const auto& s : c.sets) {
    run_args.insert(run_args.end(), {"--set", s});
    validate_args.insert(validate_args.end(), {"--set", s});
  }
  const CliResult v = run_cli(validate_args);
  SCOPED_TRACE("vcpusim validate " + c.file);
  expect_one_message(c, v);
  EXPECT_TRUE(v.out.empty()) << v.out;
  EXPECT_EQ(v.err, run_cli(run_args).err);
}

}  // namespace vcpusim::test
