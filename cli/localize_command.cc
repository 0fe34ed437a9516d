#include "cli/localize_command.h"

#include <cstdio>

#include "libequiv/io/number_format.h"
#include "libequiv/analysis/localization.h"
#include "libequiv/io/atomic_file.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {
int RunLocalize(const LocalizeArgs& args, std::ostream& out, std::ostream& err) {
  try {
    const SuiteResults results = LoadSuiteResults(args.results);
    const Localization loc = Localize(results.cases);
    const std::string json = ToJson(loc).dump(2) + "\n";
    if (!args.output.empty()) WriteFileAtomically(args.output, json, "the localization");
    if (args.json) {
      out << json;
    } else {
      out << loc.summary << "\n";
      for (std::size_t i = 0; i < loc.suspects.size(); ++i) {
        const Suspect& s = loc.suspects[i];
        out << "  " << i + 1 << ". " << s.name << "  R = " << FormatShort(s.r_ratio) << "  "
            << PatternName(s.pattern)
            << "  " << RootCauseName(s.cause) << "\n";
      }
    }
    return loc.clean ? kExitPassed : kExitFailed;
  } catch (const Error& e) {
    err << "equiv localize: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace equiv::cli
