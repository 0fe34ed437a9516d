#include "libequiv/report/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libequiv/metrics/error_distribution.h"

namespace equiv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

ErrorDistribution Errors(float scale) {
  std::vector<float> f(64), b(64), t(64);
  for (int i = 0; i < 64; ++i) {
    f[i] = 1;
    b[i] = 1 + 1e-3f * static_cast<float>(i % 7);
    t[i] = 1 + scale * 1e-3f * static_cast<float>(i % 5 + 1);
  }
  return *ErrorDistributionOf(
      {TensorView(f, Shape{64}), TensorView(b, Shape{64}), TensorView(t, Shape{64})});
}

CaseResult Case(std::string name, std::string component, int64_t order, double r,
                std::optional<Band> band, bool passed) {
  CaseResult c;
  c.name = name + "/normal";
  c.case_name = name;
  c.input = "normal";
  c.component = component;
  c.layer = 0;
  c.source_paths = {"model.layers.0." + name};
  c.target_paths = {"layers.0." + name};
  c.order = order;
  c.outcome = Outcome::kRatio;
  c.r_ratio = r;
  c.band = band;
  c.passed = passed;
  c.message = "R = " + std::to_string(r);
  c.errors = Errors(std::isfinite(r) ? static_cast<float>(r) : 1.0f);
  return c;
}

SuiteResults Sample() {
  SuiteResults r;
  r.suite = "tiny_llama_suite";
  r.model = "configs/tiny-llama.json";
  r.device = "tp2";
  r.faults = {"qkv_concat_order"};
  r.complete = true;
  // Out of suite order on purpose: the report sorts by (order, name).
  r.cases.push_back(Case("mlp", "mlp", 1, 1.01, Band::kWithinTolerance, true));
  r.cases.push_back(Case("qkv_proj", "qkv_proj", 2, 42.5, Band::kMissingAlgorithm, false));
  CaseResult embedding = Case("embedding", "embedding", 0, std::numeric_limits<double>::quiet_NaN(),
                              std::nullopt, true);
  embedding.outcome = Outcome::kDegenerateBaseline;
  embedding.errors.reset();  // a file written before distributions existed
  r.cases.push_back(embedding);
  return r;
}

TEST(HtmlReportTest, HeaderHasTheRunAndTheVerdict) {
  const std::string html = RenderHtmlReport({.results = Sample()});
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<h1>tiny_llama_suite</h1>"));
  EXPECT_THAT(html, HasSubstr("<dd id=\"model\">configs/tiny-llama.json</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd id=\"device\">tp2</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd id=\"faults\">qkv_concat_order</dd>"));
  EXPECT_THAT(html, HasSubstr("<p class=\"verdict fail\" id=\"verdict\">FAIL: 2 of 3 cases passed, "
                              "1 failed, 0 flagged over-precision</p>"));
}

TEST(HtmlReportTest, CleanCompleteRunPasses) {
  SuiteResults r = Sample();
  r.faults.clear();
  r.cases.erase(r.cases.begin() + 1);
  EXPECT_THAT(RenderHtmlReport({.results = r}), HasSubstr("verdict pass\" id=\"verdict\">PASS"));
  EXPECT_THAT(RenderHtmlReport({.results = r}), HasSubstr("none injected"));
  EXPECT_THAT(RenderHtmlReport({.results = r}), Not(HasSubstr("clean port")));
  r.complete = false;
  EXPECT_THAT(RenderHtmlReport({.results = r}), HasSubstr(">INCOMPLETE: "));
}

TEST(HtmlReportTest, TableHasOneRowPerCaseInSuiteOrder) {
  const std::string html = RenderHtmlReport({.results = Sample()});
  EXPECT_THAT(html, HasSubstr("<section id=\"components\">"));
  EXPECT_EQ(Count(html, "<tr class=\"case "), 3);
  const std::size_t embedding = html.find("id=\"case-0\" data-name=\"embedding/normal\"");
  const std::size_t mlp = html.find("id=\"case-1\" data-name=\"mlp/normal\"");
  const std::size_t qkv = html.find("id=\"case-2\" data-name=\"qkv_proj/normal\"");
  ASSERT_NE(embedding, std::string::npos);
  ASSERT_NE(mlp, std::string::npos);
  ASSERT_NE(qkv, std::string::npos);
  EXPECT_LT(embedding, mlp);
  EXPECT_LT(mlp, qkv);
  EXPECT_THAT(html, HasSubstr("<tr class=\"case failed\" id=\"case-2\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"r\" data-r=\"42.5\" title=\"42.5\">42.5</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"band band-missing_algorithm\">missing_algorithm</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"r\" data-r=\"nan\">-</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"paths\">model.layers.0.qkv_proj</td>"));
}

TEST(HtmlReportTest, RChartHasAPointPerCaseColoredByBandAndTheTauLine) {
  const std::string html = RenderHtmlReport({.results = Sample()});
  const std::size_t begin = html.find("<svg class=\"plot r-chart\"");
  ASSERT_NE(begin, std::string::npos);
  const std::string chart = html.substr(begin, html.find("</svg>", begin) - begin);
  EXPECT_EQ(Count(chart, "<circle "), 3);
  EXPECT_THAT(chart, HasSubstr("<circle class=\"band-missing_algorithm\""));
  EXPECT_THAT(chart, HasSubstr("<circle class=\"not-judged clamped\""));  // NaN: on the edge
  EXPECT_THAT(chart, HasSubstr("<line class=\"tau\""));
  EXPECT_THAT(chart, HasSubstr(">tau = 1.2</text>"));
  EXPECT_THAT(chart, HasSubstr("<title>#2 qkv_proj/normal: R = 42.5 (missing_algorithm)</title>"));
}

TEST(HtmlReportTest, EveryCaseWithErrorsHasAQqPlotAndAHistogram) {
  const std::string html = RenderHtmlReport({.results = Sample()});
  EXPECT_EQ(Count(html, "<svg class=\"plot qq-plot\""), 2);
  EXPECT_EQ(Count(html, "<svg class=\"plot histogram\""), 2);
  EXPECT_THAT(html, HasSubstr("<article class=\"case-distribution\" id=\"dist-2\">"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"dist-0\"")));  // embedding recorded no distribution
  EXPECT_THAT(html, HasSubstr("<a href=\"#dist-2\">qkv_proj/normal</a>"));
  EXPECT_THAT(html, HasSubstr("<line class=\"identity\""));
  EXPECT_THAT(html, HasSubstr("<path class=\"baseline\""));
  EXPECT_THAT(html, HasSubstr("<path class=\"target\""));
  // 65 quantiles, those with a zero baseline error (i % 7 == 0: the lowest 11 quantiles) not drawn.
  EXPECT_THAT(html, HasSubstr("65 quantiles (0, 1/64, ..., 1) of 64 elements; 11 with a zero "
                              "error not drawn"));
}

TEST(HtmlReportTest, WithoutDistributionsSaysSo) {
  SuiteResults r = Sample();
  for (CaseResult& c : r.cases) c.errors.reset();
  EXPECT_THAT(RenderHtmlReport({.results = r}),
              HasSubstr("No case of this results file records its error distributions."));
}

TEST(HtmlReportTest, StringsFromTheResultsAreEscaped) {
  SuiteResults r = Sample();
  r.suite = "<script>alert('x')</script>";
  r.cases[0].message = "a < b & \"c\"";
  r.cases[0].name = "<img src=x onerror=alert(1)>";
  r.cases[1].message = std::string("bad \xff byte");
  const std::string html = RenderHtmlReport({.results = r});
  EXPECT_THAT(html, HasSubstr("<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</h1>"));
  EXPECT_THAT(html, HasSubstr("a &lt; b &amp; &quot;c&quot;"));
  EXPECT_THAT(html, HasSubstr("&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(html, HasSubstr("bad \xef\xbf\xbd byte"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
}

TEST(HtmlReportTest, NothingIsFetched) {
  ReportInput input{.results = Sample()};
  input.teacher_forced =
      json{{"prompts", {{{"positions", {{{"position", 0}, {"r_ratio", 1.0}}}}}}}};
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy\" content=\"default-src 'none'"));
  for (const char* word :
       {"<script", "<link", "<img", "src=", "href=\"http", "url(", "@import", "@font-face"}) {
    EXPECT_THAT(html, Not(HasSubstr(word))) << word;
  }
  // The only absolute URL is the SVG namespace, an identifier that is never fetched.
  for (std::size_t at = html.find("http"); at != std::string::npos;
       at = html.find("http", at + 1)) {
    if (html.compare(at, 7, "http://") != 0 && html.compare(at, 8, "https://") != 0) continue;
    EXPECT_EQ(html.substr(at, html.find('"', at) - at), "http://www.w3.org/2000/svg");
  }
}

TEST(HtmlReportTest, LocalizationShowsThePrimarySuspectAndTheRanking) {
  ReportInput input{.results = Sample()};
  input.localization = Localize(input.results.cases);
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("<section id=\"localization\">"));
  EXPECT_THAT(html, HasSubstr("<div class=\"suspect\" id=\"primary-suspect\">\n<p><b "
                              "class=\"suspect-name\">qkv_proj/normal</b>: step, "
                              "missing_algorithm (R = 42.5"));
  EXPECT_THAT(html, HasSubstr(input.localization->primary->description));
  EXPECT_THAT(html, HasSubstr("reference: <code>model.layers.0.qkv_proj</code>"));
  EXPECT_THAT(html, HasSubstr("<table id=\"suspects\">"));
  EXPECT_EQ(Count(html, "<tr class=\"suspect-row\">"),
            static_cast<int>(input.localization->suspects.size()));
  EXPECT_THAT(RenderHtmlReport({.results = Sample()}), Not(HasSubstr("id=\"localization\"")));
}

TEST(HtmlReportTest, APassingRunShowsAFlagNotAPrimarySuspect) {
  ReportInput input{.results = Sample()};
  input.results.cases.erase(input.results.cases.begin() + 1);  // the failing qkv_proj
  input.results.cases[0].band = Band::kOverPrecision;
  input.results.cases[0].r_ratio = 0.6;
  input.localization = Localize(input.results.cases);
  ASSERT_TRUE(input.localization->primary);
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("<h3>First over-precision flag (passed)</h3>"));
  EXPECT_THAT(html, HasSubstr("<h3>Over-precision flags</h3>"));
  EXPECT_THAT(html, Not(HasSubstr("Primary suspect")));
  EXPECT_THAT(html, Not(HasSubstr("primary suspect")));
}

TEST(HtmlReportTest, ADumpRunNamesItsDumpsNotADeviceOrACleanPort) {
  SuiteResults r = Sample();  // one case fails
  r.faults.clear();
  r.device = "dumps";
  r.dumps = "journey/dumps/rope";
  const std::string html = RenderHtmlReport({.results = r});
  EXPECT_THAT(html, HasSubstr("<dt>target</dt><dd id=\"target\">outputs dumped by the port, "
                              "read from journey/dumps/rope</dd>"));
  EXPECT_THAT(html, Not(HasSubstr("clean port")));
  EXPECT_THAT(html, Not(HasSubstr("id=\"faults\"")));
  EXPECT_THAT(html, Not(HasSubstr("id=\"device\"")));
}

TEST(HtmlReportTest, TeacherForcedPlotsWhatIsPresent) {
  json positions = json::array();
  for (int i = 0; i < 8; ++i) {
    positions.push_back({{"position", 3 + i},
                         {"r_ratio", 1.0 + 0.1 * i},
                         {"cosine", 0.999 - 0.001 * i},
                         {"top1", true}});
  }
  ReportInput input{.results = Sample()};
  input.teacher_forced =
      json{{"criteria", {{"tau", 1.2}, {"theta", 0.95}}},
           {"prompts", {{{"positions", positions}}, {{"positions", positions}}, {{"other", 1}}}},
           {"failures", {{{"message", "R p95 = 1.7 >= tau = 1.2 <worst>"}}}}};
  const std::string html = RenderHtmlReport(input);
  EXPECT_THAT(html, HasSubstr("<section id=\"teacher-forced\">"));
  EXPECT_THAT(html, HasSubstr("<figure class=\"tf-plot\" id=\"tf-r_ratio\">"));
  EXPECT_THAT(html, HasSubstr("<figure class=\"tf-plot\" id=\"tf-cosine\">"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"tf-kl\"")));       // no position has kl
  EXPECT_EQ(Count(html, "<polyline class=\"prompt-"), 4);  // 2 prompts x 2 metrics
  EXPECT_THAT(html, HasSubstr(">tau = 1.2</text>"));
  EXPECT_THAT(html, HasSubstr(">theta = 0.95</text>"));
  EXPECT_THAT(html, HasSubstr("1 prompt(s) without a positions array skipped."));
  EXPECT_THAT(html, HasSubstr("<li>R p95 = 1.7 &gt;= tau = 1.2 &lt;worst&gt;</li>"));
}

TEST(HtmlReportTest, TeacherForcedOfAnotherShapeSaysSo) {
  for (const json& tf : {json::object(), json{{"prompts", 3}}, json{{"prompts", {1, "x"}}},
                         json{{"prompts", {{{"positions", {{{"r_ratio", "high"}}}}}}}}}) {
    ReportInput input{.results = Sample()};
    input.teacher_forced = tf;
    EXPECT_THAT(RenderHtmlReport(input),
                HasSubstr("The teacher-forced result has no prompt with per-position r_ratio, "
                          "cosine or kl."))
        << tf.dump();
  }
}

TEST(HtmlReportTest, EmptySuiteRenders) {
  SuiteResults r;
  r.suite = "empty";
  r.complete = true;
  const std::string html = RenderHtmlReport({.results = r});
  EXPECT_THAT(html, HasSubstr("NO CASES"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

}  // namespace
}  // namespace equiv
