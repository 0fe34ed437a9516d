#include "cli/report_command.h"

#include "cli/command_guard.h"
#include "cli/exit_codes.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/io/json_show.h"
#include "libequiv/report/html_report.h"
#include "libequiv/report/localization_json.h"
#include "libequiv/report/markdown_summary.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {

int RunReport(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("report", err, [&] {
    const bool markdown = args.format == "markdown";
    if (!markdown && args.format != "html") {
      throw Error("report: --format " + args.format + " is neither html nor markdown");
    }
    if (args.output.empty() && !markdown) throw Error("report: -o report.html is required");
    if (args.localize && !args.localization.empty()) {
      throw Error("report: --localize and --localization " + args.localization +
                  " exclude each other");
    }
    ReportInput input{.results = LoadSuiteResults(args.results)};
    if (args.localize) input.localization = Localize(input.results.cases);
    if (!args.localization.empty()) {
      input.localization = LoadLocalization(args.localization);
      CheckLocalizationMatches(*input.localization, input.results, args.localization, args.results);
    }
    if (!args.teacher_forced.empty()) {
      nlohmann::json tf = ReadJsonFile(args.teacher_forced);
      if (!tf.is_object()) {
        throw Error(args.teacher_forced + ": the document is " + JsonKindOf(tf) +
                    ", expected an object with \"prompts\"");
      }
      input.teacher_forced = std::move(tf);
    }
    if (markdown) {
      if (!input.localization) input.localization = Localize(input.results.cases);
      const std::string summary = RenderMarkdownSummary(input);
      if (args.output.empty()) {
        out << summary;
        return kExitPassed;
      }
      WriteFileAtomically(args.output, summary, "the summary");
    } else {
      WriteFileAtomically(args.output, RenderHtmlReport(input), "the report");
    }
    const Totals totals = TotalsOf(input.results.cases);
    out << "report: " << args.output << " (" << totals.cases << " cases, " << totals.failed
        << " failed"
        // A passing run names no suspect: the primary of a clean run is an over-precision flag.
        << (input.localization && input.localization->primary && input.localization->primary->failed
                ? ", primary suspect " + Printable(input.localization->primary->name)
                : std::string())
        << ")\n";
    return kExitPassed;
  });
}

}  // namespace equiv::cli
