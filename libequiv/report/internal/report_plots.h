// The SVG plots of the HTML report (html_report.h), each a self-contained <svg> element.
//
//   html += RChart(cases_in_suite_order, results.tau);
//   if (c.errors) html += QqPlot(*c.errors) + ErrorHistogram(*c.errors);
#ifndef EQUIV_LIBEQUIV_REPORT_INTERNAL_REPORT_PLOTS_H_
#define EQUIV_LIBEQUIV_REPORT_INTERNAL_REPORT_PLOTS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libequiv/metrics/error_distribution.h"
#include "libequiv/results/case_result.h"

namespace equiv {

// R of each case by its position in `cases` (log y), the tau line, points colored by band
// (class "band-<name>", "not-judged" without a band). Class "r-chart".
std::string RChart(const std::vector<CaseResult>& cases, double tau);

// Port error quantiles against baseline error quantiles, log-log, with the 45 degree line
// (equal errors) and the tau line (port error = tau x baseline). Quantiles at 0 cannot be
// drawn and are counted in the caption. Class "qq-plot".
std::string QqPlot(const ErrorDistribution& errors, double tau);

// The two histograms overlaid on the shared log-spaced bins. Class "histogram".
std::string ErrorHistogram(const ErrorDistribution& errors);

// Per-position R, cosine and KL of a teacher-forced result, one line per prompt, read
// tolerantly (html_report.h); one <figure class="tf-plot"> per metric found, then a note of
// what was skipped. Empty when no prompt has a position with one of these metrics.
std::string TeacherForcedPlots(const nlohmann::json& teacher_forced);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_INTERNAL_REPORT_PLOTS_H_
