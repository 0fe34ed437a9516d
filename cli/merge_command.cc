#include "cli/merge_command.h"

#include "cli/command_guard.h"
#include "libequiv/results/results_writer.h"
#include "libequiv/results/shard.h"
#include "libequiv/results/suite_results.h"
#include "libequiv/tensor/error.h"

namespace equiv::cli {

int RunMerge(const MergeArgs& args, std::ostream& out, std::ostream& err) {
  return GuardCommand("merge", err, [&] {
    const SuiteResults merged = MergeShardFiles(args.shards);
    // Written whole (atomically, under the results lock): a reader never sees half a file.
    ResultsWriter writer(args.output, merged);
    writer.Finish();
    const Totals totals = TotalsOf(merged.cases);
    out << args.output << ": " << args.shards.size() << " shards, " << totals.cases << " cases ("
        << totals.passed << " passed, " << totals.failed << " failed, " << totals.flagged
        << " flagged over_precision)\n";
    return kExitPassed;
  });
}

}  // namespace equiv::cli
