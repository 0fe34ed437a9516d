// `equiv merge`: the results files of a sharded suite run combined into one, checked so that
// nothing is lost (docs/suite-results.md).
//
//   equiv merge results.shard-1-of-3.json results.shard-2-of-3.json ... -o results.json
#ifndef EQUIV_CLI_MERGE_COMMAND_H_
#define EQUIV_CLI_MERGE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct MergeArgs {
  std::vector<std::string> shards = {};
  std::string output = {};
};

// Writes the merged file and one line on what it holds; 0, or 2 naming the file at fault.
int RunMerge(const MergeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_MERGE_COMMAND_H_
