// The differential view (tools/explore/report_diff.hpp) of shrink's minimal replay and its nearest
// passing run: the first divergence comes no later than the failure and is blamed on the one
// schedule item between them; the HTML page and the terminal charts mark it.
#include <gtest/gtest.h>

#include "shrink_util.hpp"
#include "tools/explore/report_diff.hpp"
#include "tools/explore/shrink.hpp"

namespace vcpusim::test {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Diff, NamesTheUndoneDecisionAndMarksTheDivergence) {
  const tools::ReplayFile found = first_failure("explore/pv-hash-race-unplaced.json", 64);
  ASSERT_FALSE(found.failure.signature.empty());
  tools::ShrinkOptions o;
  o.max_runs = 200;
  const tools::ShrinkResult s = tools::shrink(found, "found", o);
  ASSERT_TRUE(s.passing.has_value());
  TempDir dir;
  const fs::path min = dir.path() / "min.json", passing = dir.path() / "min.passing.json";
  write_replay(min, s.min);
  write_replay(passing, *s.passing);

  const tools::RunDiff d = tools::diff_replays(passing.string(), min.string());
  ASSERT_TRUE(d.diverged);
  // Exactly the one item shrink undid, in the same words.
  ASSERT_EQ(d.causes.size(), 1u) << d.cause();
  EXPECT_EQ(d.causes[0].rfind(s.undone, 0), 0u) << d.causes[0] << " vs " << s.undone;
  EXPECT_LE(d.time, d.failing.run.result.failure.time);
  EXPECT_TRUE(d.passing.run.result.failure.signature.empty());
  EXPECT_EQ(d.failing.run.result.failure.signature, found.failure.signature);
  EXPECT_NE(d.passing_event, d.failing_event);

  // HTML: both timelines with their lanes, one divergence marker on each, the cause named.
  const std::string html = tools::render_diff_html(d);
  EXPECT_EQ(count(html, "<svg id=\"passing-timeline\""), 1u);
  EXPECT_EQ(count(html, "<svg id=\"failing-timeline\""), 1u);
  EXPECT_EQ(count(html, "class=\"divergence-mark\""), 2u);
  EXPECT_EQ(count(html, ">vCPU0</text>"), 2u);
  EXPECT_EQ(count(html, ">pCPU0</text>"), 2u);
  EXPECT_NE(html.find(s.undone), std::string::npos);
  // One legend for both; the divergence in words, not raw records (those stay in a fold).
  EXPECT_EQ(count(html, "<div class=\"legend\" id=\"legend\">"), 1u);
  EXPECT_EQ(d.words.rfind("At " + tools::readable_time(d.time) + ", the ", 0), 0u) << d.words;
  EXPECT_EQ(d.words.find("deschedule("), std::string::npos) << d.words;
  EXPECT_NE(html.find("<b>First divergence.</b> " + d.words), std::string::npos);
  EXPECT_EQ(count(html, " id=\"timeline\""), 0u);   // no id twice on the page
  EXPECT_EQ(html.find("://"), std::string::npos);  // self-contained: no URL

  // Terminal: the line naming the divergence and its cause, a marker over both charts.
  const std::string text = tools::render_diff_timeline(d, 80);
  EXPECT_EQ(text.rfind("first divergence at " + tools::readable_time(d.time), 0), 0u) << text;
  EXPECT_NE(text.find("caused by " + s.undone), std::string::npos) << text;
  EXPECT_EQ(count(text, "v first divergence"), 2u) << text;
  EXPECT_NE(text.find("\n" + d.words + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("passing run"), std::string::npos);
  EXPECT_NE(text.find("failing run"), std::string::npos);

  // The CLI writes the page; bad input (a scenario instead of a replay) exits 2.
  const fs::path html_file = dir.path() / "diff.html";
  const CliResult r =
      run_cli({"report", "--diff", passing.string(), min.string(), "-o", html_file.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(html_file), html);
  const CliResult t =
      run_cli({"timeline", "--diff", passing.string(), min.string(), "--width", "80"});
  EXPECT_EQ(t.status, 0) << t.err;
  EXPECT_EQ(t.out, text);
  const CliResult bad = run_cli({"report", "--diff", scenario_path("explore/vdso-unplaced.json"),
                                 min.string(), "-o", (dir.path() / "x.html").string()});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("not a replay file"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir.path() / "x.html"));
}

}  // namespace
}  // namespace vcpusim::test
