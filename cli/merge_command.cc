#include "cli/merge_command.h"

#include "libequiv/results/results_writer.h"
#include "libequiv/results/shard.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {

int RunMerge(const MergeArgs& args, std::ostream& out, std::ostream& err) {
  try {
    SuiteResults merged = MergeShardFiles(args.shards);
    std::vector<CaseResult> cases = std::move(merged.cases);
    merged.cases.clear();
    // The writer's atomic rename: a reader never sees half a file.
    ResultsWriter writer(args.output, merged);
    for (const CaseResult& c : cases) writer.Append(c);
    writer.Finish();
    const Totals totals = TotalsOf(cases);
    out << args.output << ": " << args.shards.size() << " shards, " << totals.cases << " cases ("
        << totals.passed << " passed, " << totals.failed << " failed, " << totals.flagged
        << " flagged over_precision)\n";
    return kExitPassed;
  } catch (const Error& e) {
    err << "equiv merge: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace equiv::cli
