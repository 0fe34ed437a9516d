// The HTML report of a suite run: one self-contained page (inline CSS and SVG, no script,
// nothing fetched) with the header and verdict, the table of components, R by component,
// each component's error distributions (QQ plot, histograms), teacher-forced per-position
// plots and the localization summary. Layout and ids: docs/report.md.
//
//   ReportInput input{.results = LoadSuiteResults("out/results.json")};
//   input.localization = Localize(input.results.cases);
//   std::ofstream("report.html") << RenderHtmlReport(input);
#ifndef EQUIV_LIBEQUIV_REPORT_HTML_REPORT_H_
#define EQUIV_LIBEQUIV_REPORT_HTML_REPORT_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "libequiv/analysis/localization.h"
#include "libequiv/results/suite_results.h"

namespace equiv {

struct ReportInput {
  SuiteResults results;
  std::optional<Localization> localization = std::nullopt;
  // A teacher-forced result as JSON, read tolerantly: {"prompts": [{"positions": [{"position",
  // "r_ratio", "cosine", "kl", ...}]}]}; whatever of these is present (and a number) is plotted.
  std::optional<nlohmann::json> teacher_forced = std::nullopt;
};

// The page, UTF-8. Every string from the input is HTML-escaped. Never throws for odd values
// (NaN, empty suites, a teacher-forced document of another shape: it says what it skipped).
std::string RenderHtmlReport(const ReportInput& input);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_HTML_REPORT_H_
