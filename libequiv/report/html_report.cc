#include "libequiv/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "libequiv/io/number_format.h"
#include "libequiv/report/internal/html_escape.h"
#include "libequiv/report/internal/report_plots.h"
#include "libequiv/report/internal/svg_plot.h"

namespace equiv {
namespace {

// Nothing may be fetched: the policy forbids every source but the inline style.
constexpr std::string_view kHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="equiv report">
)";

constexpr std::string_view kStyle = R"(<style>
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1180px; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; margin-top: 32px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
.verdict { display: inline-block; padding: 6px 14px; font-size: 18px; font-weight: bold; }
.verdict.pass { background: #c8ecc8; } .verdict.fail { background: #f4c2c2; }
.verdict.incomplete { background: #f6e3a1; }
table { border-collapse: collapse; font-size: 12px; }
section#components { overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; text-align: left; }
td.r { font-family: monospace; text-align: right; }
td.paths { font-family: monospace; font-size: 11px; min-width: 180px; overflow-wrap: anywhere; }
td.message { font-size: 10px; min-width: 160px; color: #444; }
tr.failed td.passed { color: #a00; font-weight: bold; }
.band-over_precision { background: #cfe0ff; fill: #3b73d9; }
.band-within_tolerance { background: #c8ecc8; fill: #2e9a2e; }
.band-possible_bug { background: #fbeaa0; fill: #d4a600; }
.band-likely_bug { background: #fbc98e; fill: #e07000; }
.band-missing_algorithm { background: #f4a3a3; fill: #d01c1c; }
.band-wrong_computation { background: #d9a3e0; fill: #7a1c8c; }
.not-judged { background: #e4e4e4; fill: #888; }
svg.plot { background: #fff; margin: 4px; }
svg .frame { fill: none; stroke: #444; } svg .grid { stroke: #e4e4e4; }
svg text { font-size: 11px; fill: #333; } svg .axis-label { font-size: 12px; }
svg circle.clamped { fill-opacity: 0.25; stroke: #555; }
svg .tau { stroke: #c00; stroke-dasharray: 5 3; } svg .line-label { fill: #c00; }
svg .identity { stroke: #555; } svg rect.identity { fill: #555; }
svg .tau-line { stroke: #c00; stroke-dasharray: 2 3; } svg rect.tau-line { fill: #c00; }
svg circle.quantile { fill: #1f5fbf; }
svg path.baseline, svg rect.baseline { fill: #888; fill-opacity: 0.35; stroke: #555; }
svg path.target, svg rect.target { fill: #e07000; fill-opacity: 0.35; stroke: #b05000; }
svg polyline[class] { fill: none; stroke-width: 1.5; }
.prompt-0 { stroke: #1f5fbf; fill: #1f5fbf; } .prompt-1 { stroke: #e07000; fill: #e07000; }
.prompt-2 { stroke: #2e9a2e; fill: #2e9a2e; } .prompt-3 { stroke: #d01c1c; fill: #d01c1c; }
.prompt-4 { stroke: #7a1c8c; fill: #7a1c8c; } .prompt-5 { stroke: #666; fill: #666; }
figure { display: inline-block; margin: 0 8px 8px 0; vertical-align: top; }
figcaption { font-size: 11px; color: #555; }
article.case-distribution { border-top: 1px solid #eee; padding-top: 6px; }
article.case-distribution h3 { font-size: 14px; margin: 4px 0; }
.suspect { background: #fff4e0; border-left: 4px solid #e07000; padding: 6px 12px; }
.note { color: #555; font-size: 12px; }
</style>
</head>
)";

std::string Esc(std::string_view s) { return HtmlEscape(s); }

std::string BandText(const std::optional<Band>& band) {
  return band ? std::string(BandName(*band)) : std::string("-");
}
std::string BandClass(const std::optional<Band>& band) {
  return band ? "band-" + std::string(BandName(*band)) : std::string("not-judged");
}

std::string Joined(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// "1.234" with the full-precision value as the tooltip; "-" when not judged by R.
std::string RCell(double r) {
  if (std::isnan(r)) return "<td class=\"r\" data-r=\"nan\">-</td>";
  return "<td class=\"r\" data-r=\"" + FormatFull(r) + "\" title=\"" + FormatFull(r) + "\">" +
         FormatShort(r) + "</td>";
}

std::vector<CaseResult> InSuiteOrder(std::vector<CaseResult> cases) {
  std::stable_sort(cases.begin(), cases.end(), [](const CaseResult& a, const CaseResult& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  return cases;
}

std::string Header(const SuiteResults& r, const Totals& t) {
  const bool failed = t.failed > 0;
  const std::string verdict =
      failed ? "fail" : (!r.complete || t.cases == 0 ? "incomplete" : "pass");
  const std::string verdict_text =
      failed ? "FAIL" : (!r.complete ? "INCOMPLETE" : (t.cases == 0 ? "NO CASES" : "PASS"));
  std::string s = "<header id=\"summary\">\n<h1>" + Esc(r.suite) + "</h1>\n";
  s += "<p class=\"verdict " + verdict + "\" id=\"verdict\">" + verdict_text + ": " +
       std::to_string(t.passed) + " of " + std::to_string(t.cases) + " cases passed, " +
       std::to_string(t.failed) + " failed, " + std::to_string(t.flagged) +
       " flagged over-precision</p>\n<dl class=\"facts\">\n";
  auto fact = [&](std::string_view name, const std::string& value, std::string_view id) {
    s +=
        "<dt>" + std::string(name) + "</dt><dd id=\"" + std::string(id) + "\">" + value + "</dd>\n";
  };
  fact("model", Esc(r.model), "model");
  if (r.dumps) {
    // The port ran elsewhere: no simulated device, no injected faults to speak of.
    fact("target", "outputs dumped by the port, read from " + Esc(*r.dumps), "target");
  } else {
    fact("device", Esc(r.device), "device");
    fact("faults", r.faults.empty() ? std::string("none injected") : Esc(Joined(r.faults, ", ")),
         "faults");
  }
  fact("tau", FormatShortest(r.tau), "tau");
  if (r.shard) {
    fact("shard", std::to_string(r.shard->index + 1) + " of " + std::to_string(r.shard->total),
         "shard");
  }
  fact("complete", r.complete ? "yes" : "no: the suite did not finish", "complete");
  fact("seconds", FormatShort(t.seconds), "seconds");
  return s + "</dl>\n</header>\n";
}

std::string ComponentsTable(const std::vector<CaseResult>& cases) {
  std::string s =
      "<section id=\"components\">\n<h2>Components</h2>\n<table id=\"components-table\">\n"
      "<thead><tr><th>#</th><th>case</th><th>component</th><th>layer</th><th>input</th>"
      "<th>outcome</th><th>R</th><th>tau</th><th>band</th><th>passed</th><th>source paths</th>"
      "<th>target paths</th><th>message</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    const std::string n = std::to_string(i);
    s += "<tr class=\"case " + std::string(c.passed ? "passed" : "failed") + "\" id=\"case-" + n +
         "\" data-name=\"" + Esc(c.name) + "\">";
    s += "<td>" + n + "</td><td class=\"name\">" +
         (c.errors ? "<a href=\"#dist-" + n + "\">" + Esc(c.name) + "</a>" : Esc(c.name)) +
         "</td><td>" + Esc(c.component) + "</td><td>" +
         (c.layer >= 0 ? std::to_string(c.layer) : std::string("-")) + "</td><td>" + Esc(c.input) +
         "</td><td>" + Esc(std::string(OutcomeName(c.outcome))) + "</td>" + RCell(c.r_ratio) +
         "<td>" + FormatShortest(c.tau) + "</td><td class=\"band " + BandClass(c.band) + "\">" +
         BandText(c.band) + "</td><td class=\"passed\">" + (c.passed ? "yes" : "NO") +
         "</td><td class=\"paths\">" + Esc(Joined(c.source_paths, "\n")) +
         "</td><td class=\"paths\">" + Esc(Joined(c.target_paths, "\n")) +
         "</td><td class=\"message\">" + Esc(c.message) + "</td></tr>\n";
  }
  return s + "</tbody>\n</table>\n</section>\n";
}

std::string RSection(const std::vector<CaseResult>& cases, double tau) {
  return "<section id=\"r-by-component\">\n<h2>R by component in suite order</h2>\n" +
         RChart(cases, tau) +
         "<p class=\"note\">Log scale; the dashed line is tau; colors are bands; faint points "
         "lie off the axis (not judged by R, or R = 0).</p>\n</section>\n";
}

std::string Distributions(const std::vector<CaseResult>& cases) {
  std::string s = "<section id=\"distributions\">\n<h2>Error distributions</h2>\n";
  int shown = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    if (!c.errors) continue;
    ++shown;
    s += "<article class=\"case-distribution\" id=\"dist-" + std::to_string(i) + "\">\n<h3>" +
         Esc(c.name) + " <span class=\"band " + BandClass(c.band) +
         "\">R = " + FormatShort(c.r_ratio) + ", " + BandText(c.band) + "</span></h3>\n" +
         QqPlot(*c.errors, c.tau) + ErrorHistogram(*c.errors) + "</article>\n";
  }
  if (shown == 0) {
    s += "<p class=\"note\">No case of this results file records its error distributions.</p>\n";
  }
  return s + "</section>\n";
}

std::string SuspectBlock(const Suspect& s, std::string_view id) {
  return "<div class=\"suspect\" id=\"" + std::string(id) + "\">\n<p><b class=\"suspect-name\">" +
         Esc(s.name) + "</b>: " + Esc(PatternName(s.pattern)) + ", " + Esc(RootCauseName(s.cause)) +
         " (R = " + FormatShort(s.r_ratio) + ", <span class=\"band " + BandClass(s.band) + "\">" +
         BandText(s.band) + "</span>" + (s.failed ? "" : ", passed, flagged") + ")</p>\n<p>" +
         Esc(s.description) + "</p>\n<p class=\"paths\">reference: <code>" +
         Esc(Joined(s.source_paths, ", ")) + "</code><br>port: <code>" +
         Esc(Joined(s.target_paths, ", ")) + "</code></p>\n</div>\n";
}

std::string LocalizationSection(const Localization& loc) {
  std::string s =
      "<section id=\"localization\">\n<h2>Fault localization</h2>\n<p id=\"loc-summary\">" +
      Esc(loc.summary) + "</p>\n";
  // A passing run names no suspect: its first ranked entry is an over-precision flag.
  if (loc.primary && loc.primary->failed) {
    s += "<h3>Primary suspect</h3>\n" + SuspectBlock(*loc.primary, "primary-suspect");
  } else if (loc.primary) {
    s += "<h3>First over-precision flag (passed)</h3>\n" + SuspectBlock(*loc.primary, "first-flag");
  }
  if (!loc.suspects.empty()) {
    s += std::string(loc.clean ? "<h3>Over-precision flags</h3>" : "<h3>Ranked suspects</h3>") +
         "\n<table id=\"suspects\">\n<thead><tr><th>rank</th><th>case</th>"
         "<th>pattern</th><th>cause</th><th>R</th><th>band</th><th>failed</th></tr></thead>\n"
         "<tbody>\n";
    for (std::size_t i = 0; i < loc.suspects.size(); ++i) {
      const Suspect& x = loc.suspects[i];
      s += "<tr class=\"suspect-row\"><td>" + std::to_string(i + 1) + "</td><td>" + Esc(x.name) +
           "</td><td>" + Esc(PatternName(x.pattern)) + "</td><td>" + Esc(RootCauseName(x.cause)) +
           "</td>" + RCell(x.r_ratio) + "<td class=\"band " + BandClass(x.band) + "\">" +
           BandText(x.band) + "</td><td>" + (x.failed ? "yes" : "no") + "</td></tr>\n";
    }
    s += "</tbody>\n</table>\n";
  }
  return s + "</section>\n";
}

std::string TeacherForcedSection(const nlohmann::json& tf) {
  std::string plots = TeacherForcedPlots(tf);
  if (plots.empty()) {
    plots =
        "<p class=\"note\">The teacher-forced result has no prompt with per-position "
        "r_ratio, cosine or kl.</p>\n";
  }
  std::string failures;
  if (tf.is_object() && tf.contains("failures") && tf["failures"].is_array()) {
    for (const nlohmann::json& f : tf["failures"]) {
      if (f.is_object() && f.contains("message") && f["message"].is_string()) {
        failures += "<li>" + Esc(f["message"].get<std::string>()) + "</li>\n";
      }
    }
  }
  if (!failures.empty()) failures = "<ul class=\"tf-failures\">\n" + failures + "</ul>\n";
  return "<section id=\"teacher-forced\">\n<h2>Teacher-forced end to end</h2>\n" + failures +
         plots + "</section>\n";
}

}  // namespace

std::string RenderHtmlReport(const ReportInput& input) {
  const SuiteResults& r = input.results;
  const std::vector<CaseResult> cases = InSuiteOrder(r.cases);
  std::string page(kHead);
  page += "<title>equiv report: " + Esc(r.suite) + "</title>\n";
  page += kStyle;
  page += "<body>\n" + Header(r, TotalsOf(cases));
  if (input.localization) page += LocalizationSection(*input.localization);
  page += RSection(cases, r.tau);
  page += ComponentsTable(cases);
  if (input.teacher_forced) page += TeacherForcedSection(*input.teacher_forced);
  page += Distributions(cases);
  return page + "</body>\n</html>\n";
}

}  // namespace equiv
