// A short Markdown summary of a suite run, for a CI job summary or a merge-request comment:
// the verdict, the failing components (at most `max_rows`), the primary suspect when a case
// failed, and the teacher-forced verdict when one is given. Layout: docs/report.md#markdown.
//
//   ReportInput input{.results = LoadSuiteResults("out/results.json")};
//   input.localization = Localize(input.results.cases);
//   std::cout << RenderMarkdownSummary(input);  // >> "$GITHUB_STEP_SUMMARY"
#ifndef EQUIV_LIBEQUIV_REPORT_MARKDOWN_SUMMARY_H_
#define EQUIV_LIBEQUIV_REPORT_MARKDOWN_SUMMARY_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "libequiv/report/html_report.h"

namespace equiv {

// GitHub-flavoured Markdown. A passing run names no primary suspect (an over-precision flag is
// not one); a failing run names the localization's primary suspect, which is always a failed
// case. Every string from the input is escaped (code spans, table pipes), so a case name
// cannot break the table or inject markup. Never throws for odd values.
std::string RenderMarkdownSummary(const ReportInput& input, std::size_t max_rows = 20);

// `text` as one Markdown code span: newlines and control characters become spaces, the fence
// is longer than any run of backticks inside, and (for a table cell) pipes are escaped.
std::string MarkdownCode(std::string_view text, bool in_table = false);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_REPORT_MARKDOWN_SUMMARY_H_
