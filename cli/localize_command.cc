#include "cli/localize_command.h"

#include <cstdio>

#include "cli/command_guard.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
int RunLocalize(const LocalizeArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("localize", err, [&] {
    const SuiteResults results = LoadSuiteResults(args.results);
    const Localization loc = Localize(results.cases);
    const std::string json =
        ToJson(loc).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (!args.output.empty()) WriteFileAtomically(args.output, json, "the localization");
    if (args.json) {
      out << json;
    } else {
      if (!results.complete) out << "INCOMPLETE: ";
      out << Printable(loc.summary) << "\n";
      for (std::size_t i = 0; i < loc.suspects.size(); ++i) {
        const Suspect& s = loc.suspects[i];
        out << "  " << i + 1 << ". " << Printable(s.name) << "  R = " << FormatShort(s.r_ratio)
            << "  " << PatternName(s.pattern) << "  " << RootCauseName(s.cause) << "\n";
      }
    }
    if (!loc.clean) return kExitFailed;
    // A suite that did not finish proves nothing clean: its missing cases were never judged.
    if (!results.complete) {
      err << "equiv localize: " << Printable(args.results) << " is not complete (\"complete\": "
          << "false: the suite did not finish, or is still running); its " << results.cases.size()
          << " cases passed, the others were never judged\n";
      return kExitError;
    }
    return kExitPassed;
  });
}

}  // namespace equiv::cli
