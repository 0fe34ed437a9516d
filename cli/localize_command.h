// `equiv localize`: fault localization over a suite's results file (docs/localization.md).
//
//   equiv localize results.json [--json] [-o localization.json]
#ifndef EQUIV_CLI_LOCALIZE_COMMAND_H_
#define EQUIV_CLI_LOCALIZE_COMMAND_H_

#include <ostream>
#include <string>

#include "cli/exit_codes.h"

namespace equiv::cli {

struct LocalizeArgs {
  std::string results = {};
  bool json = false;
  std::string output = {};  // also write the JSON here, when set
};

// The summary and the ranked suspects (or the JSON). 0 when no case failed, 1 when one did,
// 2 on an unreadable file, or when a file that is not complete has no failed case (its
// missing cases were never judged, so nothing proves it clean; the text starts INCOMPLETE).
int RunLocalize(const LocalizeArgs& args, std::ostream& out, std::ostream& err);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_LOCALIZE_COMMAND_H_
