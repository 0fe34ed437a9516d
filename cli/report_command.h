// `equiv report`: the self-contained HTML report of a suite's results file.
//
//   equiv report RESULTS.json [--localization LOC.json | --localize]
//                [--teacher-forced TF.json] -o report.html
//   equiv report RESULTS.json --format markdown [...] [-o summary.md]   (stdout without -o)
//
// --localize runs Localize on the results; --localization reads one computed elsewhere (the
// JSON of ToJson(Localization)). The page is written atomically (a temporary file renamed).
#ifndef EQUIV_CLI_REPORT_COMMAND_H_
#define EQUIV_CLI_REPORT_COMMAND_H_

#include <ostream>
#include <string>

namespace equiv::cli {

struct ReportArgs {
  std::string results{};         // RESULTS.json (LoadSuiteResults)
  std::string localization{};    // LOC.json; empty: none
  bool localize = false;         // localize the results here
  std::string teacher_forced{};  // TF.json; empty: none
  std::string output{};          // report.html; for markdown, empty: standard output
  std::string format = "html";   // "html" or "markdown" (localized unless a LOC.json is given)
};

// Writes the report and prints "report: <path> (N cases, ...)" to `out`; errors go to `err`
// naming the file. Returns 0, or 2 (kExitError) on any error; never throws.
int RunReport(const ReportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_REPORT_COMMAND_H_
